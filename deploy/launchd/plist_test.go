// Tests that the launchd property list is well-formed and says what the
// install instructions in it promise; there is no launchd (or plutil) on
// the CI machine to ask.
package launchd_test

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// value reads the plist value that starts with start: dict, array, string,
// integer, true or false (the types this file uses).
func value(d *xml.Decoder, start xml.StartElement) (any, error) {
	switch start.Name.Local {
	case "dict":
		return dict(d)
	case "array":
		return array(d)
	case "true", "false":
		return start.Name.Local == "true", d.Skip()
	case "string", "integer", "key":
		var s string
		if err := d.DecodeElement(&s, &start); err != nil {
			return nil, err
		}
		if start.Name.Local == "integer" {
			return strconv.ParseInt(s, 10, 64)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unexpected <%s>", start.Name.Local)
}

// next returns the next element start inside the current element, or nil
// at its end.
func next(d *xml.Decoder) (*xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return &t, nil
		case xml.EndElement:
			return nil, nil
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return nil, fmt.Errorf("stray text %q", t)
			}
		}
	}
}

func dict(d *xml.Decoder) (map[string]any, error) {
	m := map[string]any{}
	for {
		k, err := next(d)
		if err != nil || k == nil {
			return m, err
		}
		key, err := value(d, *k)
		if err != nil {
			return nil, err
		}
		if _, dup := m[key.(string)]; k.Name.Local != "key" || dup {
			return nil, fmt.Errorf("want a new <key>, got <%s> %v", k.Name.Local, key)
		}
		v, err := next(d)
		if err != nil || v == nil {
			return nil, errors.Join(err, fmt.Errorf("key %v has no value", key))
		}
		if m[key.(string)], err = value(d, *v); err != nil {
			return nil, err
		}
	}
}

func array(d *xml.Decoder) ([]any, error) {
	var out []any
	for {
		e, err := next(d)
		if err != nil || e == nil {
			return out, err
		}
		v, err := value(d, *e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

func load(t *testing.T, path string) map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	d.Strict = true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			t.Fatal("no <plist> element")
		} else if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "plist" {
			top, err := next(d)
			if err != nil || top == nil || top.Name.Local != "dict" {
				t.Fatalf("plist does not hold a dict: %v", err)
			}
			m, err := dict(d)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
}

func TestAgentPlist(t *testing.T) {
	const path = "com.oauthbridge.plist"
	p := load(t, path)
	want := map[string]any{
		"Label":            strings.TrimSuffix(filepath.Base(path), ".plist"),
		"ProgramArguments": []any{"/usr/local/bin/oauthbridge", "serve"},
		"RunAtLoad":        true,
		"KeepAlive":        map[string]any{"SuccessfulExit": false},
		"ThrottleInterval": int64(10),
		"ExitTimeOut":      int64(30),
		"Umask":            int64(0o077),
		"ProcessType":      "Background",
	}
	for k, w := range want {
		if !reflect.DeepEqual(p[k], w) {
			t.Errorf("%s = %#v, want %#v", k, p[k], w)
		}
	}
	for _, k := range []string{"StandardOutPath", "StandardErrorPath"} {
		if s, _ := p[k].(string); !strings.HasPrefix(s, "__HOME__/Library/Logs/") {
			t.Errorf("%s = %q, want a log under __HOME__/Library/Logs (replaced at install)", k, s)
		}
	}
	if len(p) != len(want)+2 {
		t.Errorf("plist has %d keys, the test knows %d: check the new ones", len(p), len(want)+2)
	}
}

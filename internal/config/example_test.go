package config

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/oauthbridge/oauthbridge/deploy"
)

// TestExampleCoversEveryKey keeps the example complete: every yaml key of
// Config must appear in it (set, or at least shown in a comment).
func TestExampleCoversEveryKey(t *testing.T) {
	text := string(deploy.ExampleConfig)
	for _, key := range yamlKeys(reflect.TypeOf(Config{})) {
		if !regexp.MustCompile(`(?m)(^|[\s{,#])` + regexp.QuoteMeta(key) + `:`).MatchString(text) {
			t.Errorf("key %q is not documented in deploy/oauthbridge.example.yaml", key)
		}
	}
}

// yamlKeys lists the yaml key names of t's fields, recursively.
func yamlKeys(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		keys = append(keys, tag)
		keys = append(keys, yamlKeys(f.Type)...)
	}
	return keys
}

package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// KeyError is one problem with the configuration, tied to the key that
// causes it. Its text never contains a secret value.
type KeyError struct {
	// File is the configuration file, empty for a built-in configuration.
	File string
	// Line is the key's line in File, 0 when unknown.
	Line int
	// Key is the dotted key path, e.g. "providers.lab.imap.tls".
	Key string
	// Msg says what is wrong.
	Msg string
}

// Error formats the problem as "file:line: key: msg".
func (e *KeyError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes every KeyError match ErrInvalid.
func (e *KeyError) Is(target error) bool { return target == ErrInvalid }

// ErrInvalid is matched (errors.Is) by every error Load and Validate return for a
// configuration that is readable but wrong.
var ErrInvalid = errors.New("invalid configuration")

// keyEntry is one mapping key (or sequence item) of the loaded document.
type keyEntry struct {
	path      string
	name      string
	keyLine   int
	valueLine int
}

// keyIndex lists every key of the document in order, so errors found after
// decoding can still point at a line.
type keyIndex []keyEntry

// indexKeys walks a YAML document and records where each key is.
func indexKeys(n *yaml.Node) keyIndex {
	var idx keyIndex
	idx.walk(n, "")
	return idx
}

func (idx *keyIndex) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			idx.walk(c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinKey(path, k.Value)
			*idx = append(*idx, keyEntry{path: p, name: k.Value, keyLine: k.Line, valueLine: v.Line})
			idx.walk(v, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			*idx = append(*idx, keyEntry{path: p, keyLine: c.Line, valueLine: c.Line})
			idx.walk(c, p)
		}
	}
}

func joinKey(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// line returns the line of the key at path, or 0.
func (idx keyIndex) line(path string) int {
	for _, e := range idx {
		if e.path == path {
			return e.keyLine
		}
	}
	return 0
}

// named returns the path of the key called name on the given line.
func (idx keyIndex) named(line int, name string) string {
	for _, e := range idx {
		if e.keyLine == line && e.name == name {
			return e.path
		}
	}
	return name
}

// valueAt returns the path of the deepest key whose value is on line.
func (idx keyIndex) valueAt(line int) string {
	path := ""
	for _, e := range idx {
		if e.valueLine == line {
			path = e.path
		}
	}
	return path
}

var (
	unknownFieldRe = regexp.MustCompile(`^line (\d+): field (\S+) not found in type \S+$`)
	typeErrorRe    = regexp.MustCompile(`^line (\d+): (.*)$`)
	quotedValueRe  = regexp.MustCompile("`[^`]*`")
)

// typeErrors turns yaml's decoding errors into KeyErrors. Quoted values
// are dropped from the text, because the value may be a secret typed into
// the wrong place.
func (idx keyIndex) typeErrors(file string, te *yaml.TypeError) error {
	var errs []error
	for _, msg := range te.Errors {
		errs = append(errs, idx.typeError(file, msg))
	}
	return errors.Join(errs...)
}

func (idx keyIndex) typeError(file, msg string) error {
	if m := unknownFieldRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &KeyError{File: file, Line: line, Key: idx.named(line, m[2]), Msg: "unknown key (misspelt, or in the wrong section?)"}
	}
	if m := typeErrorRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		text := quotedValueRe.ReplaceAllString(m[2], "value")
		return &KeyError{File: file, Line: line, Key: idx.valueAt(line), Msg: text}
	}
	return &KeyError{File: file, Msg: quotedValueRe.ReplaceAllString(msg, "value")}
}

package config

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// listenOptionKeys are the keys of a listener written as a mapping.
var listenOptionKeys = []string{"addr", "allow_plaintext_auth"}

// plaintextCapable are the listeners where a password may travel before
// TLS: the others are TLS from the first byte or carry no mail password.
var plaintextCapable = []string{"imap", "pop3", "smtp"}

// UnmarshalYAML reads the listen section. Each listener is "host:port",
// or a mapping {addr: "host:port", allow_plaintext_auth: true} for the
// listeners that may, on a trusted network, take passwords without TLS.
// Unknown listener or option names are errors, like everywhere else in
// the file.
func (l *Listen) UnmarshalYAML(n *yaml.Node) error {
	type plain Listen
	if n.Kind != yaml.MappingNode {
		return n.Decode((*plain)(l))
	}
	flat := *n
	flat.Content = make([]*yaml.Node, len(n.Content))
	copy(flat.Content, n.Content)
	var errs []string
	var allow listenerSet
	for i := 0; i+1 < len(flat.Content); i += 2 {
		k, v := flat.Content[i], flat.Content[i+1]
		idx := listenFieldIndex(k.Value)
		if idx < 0 {
			errs = append(errs, fmt.Sprintf("line %d: field %s not found in type config.Listen", k.Line, k.Value))
			continue
		}
		if v.Kind != yaml.MappingNode {
			continue
		}
		addr, plaintext, bad := readListenOptions(v)
		errs = append(errs, bad...)
		flat.Content[i+1] = addr
		if plaintext {
			allow |= 1 << idx
		}
	}
	if err := flat.Decode((*plain)(l)); err != nil {
		return err
	}
	l.plaintextAuth = allow
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// readListenOptions reads {addr, allow_plaintext_auth} and returns the
// address as a scalar node for the plain decoder.
func readListenOptions(m *yaml.Node) (*yaml.Node, bool, []string) {
	addr := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Line: m.Line, Column: m.Column}
	var plaintext bool
	var errs []string
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		switch k.Value {
		case "addr":
			addr = v
		case "allow_plaintext_auth":
			if err := v.Decode(&plaintext); err != nil {
				errs = append(errs, fmt.Sprintf("line %d: allow_plaintext_auth must be true or false", v.Line))
			}
		default:
			errs = append(errs, fmt.Sprintf("line %d: field %s not found in type config.ListenOptions", k.Line, k.Value))
		}
	}
	return addr, plaintext, errs
}

// listenerSet is a set of Listen fields, by field index; a bit set keeps
// Listen comparable with ==.
type listenerSet uint32

// listenFieldIndex returns the index of Listen's field with yaml key
// name, or -1.
func listenFieldIndex(name string) int {
	t := reflect.TypeFor[Listen]()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == name && tag != "" && tag != "-" {
			return i
		}
	}
	return -1
}

// AllowPlaintextAuth reports whether the named listener's entry sets
// allow_plaintext_auth: true.
func (l Listen) AllowPlaintextAuth(name string) bool {
	i := listenFieldIndex(name)
	return i >= 0 && l.plaintextAuth&(1<<i) != 0
}

// SetAllowPlaintextAuth sets or clears allow_plaintext_auth for the named
// listener (for configurations built in code); unknown names are ignored.
func (l *Listen) SetAllowPlaintextAuth(name string, allow bool) {
	i := listenFieldIndex(name)
	switch {
	case i < 0:
	case allow:
		l.plaintextAuth |= 1 << i
	default:
		l.plaintextAuth &^= 1 << i
	}
}

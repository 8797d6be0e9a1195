package config

import "testing"

func TestMatch(t *testing.T) {
	c, err := Parse("", []byte(`providers:
  a: {issuer: "https://idp", client_id: x, imap: {addr: "h:993"}}
  b: {issuer: "https://idp", client_id: y, imap: {addr: "h:993"}}
accounts:
  - {match: "Boss@Example.test", provider: b, upstream_user: "boss@corp.example"}
  - {match: "*@example.test", provider: a}
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, account, upstream, provider string }{
		{" BOSS@example.TEST ", "boss@example.test", "boss@corp.example", "b"},
		{"Carol@Example.Test", "carol@example.test", "carol@example.test", "a"},
		{"carol@sub.example.test", "", "", ""},
		{"example.test", "", "", ""},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		acc, up, a, ok := c.Match(tt.in)
		if tt.account == "" {
			if ok {
				t.Errorf("Match(%q) matched %+v", tt.in, a)
			}
			continue
		}
		if !ok || acc != tt.account || up != tt.upstream || a.Provider != tt.provider {
			t.Errorf("Match(%q) = %q %q %+v %v", tt.in, acc, up, a, ok)
		}
	}
}

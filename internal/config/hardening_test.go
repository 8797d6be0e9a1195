package config

import (
	"slices"
	"strings"
	"testing"
)

func TestListenAcceptsAddressOrMapping(t *testing.T) {
	c, err := Parse("c.yaml", []byte(`listen:
  imap: "127.0.0.1:1143"
  smtp: {addr: "192.0.2.1:587", allow_plaintext_auth: true}
  pop3: {addr: "192.0.2.1:110"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen.IMAP != "127.0.0.1:1143" || c.Listen.SMTP != "192.0.2.1:587" || c.Listen.POP3 != "192.0.2.1:110" {
		t.Fatalf("addresses %+v", c.Listen)
	}
	got := map[string]bool{}
	for _, na := range c.Listen.All() {
		got[na.Name] = na.AllowPlaintextAuth
	}
	if !got["smtp"] || got["imap"] || got["pop3"] {
		t.Fatalf("allow_plaintext_auth by listener: %v", got)
	}
	if !c.GeneratedPasswordRequired() {
		t.Error("listeners off loopback, yet no generated password required by default")
	}
}

func TestListenMappingErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown option", "listen:\n  smtp: {addr: \"127.0.0.1:1\", allow_plain: true}\n",
			"c.yaml:2: listen.smtp.allow_plain: unknown key"},
		{"not a bool", "listen:\n  smtp: {addr: \"127.0.0.1:1\", allow_plaintext_auth: maybe}\n",
			"allow_plaintext_auth must be true or false"},
		{"on an implicit TLS listener", "listen:\n  imaps: {addr: \"127.0.0.1:1\", allow_plaintext_auth: true}\n",
			"c.yaml:2: listen.imaps.allow_plaintext_auth: only imap, pop3 and smtp take it"},
		{"unknown listener", "listen:\n  imapp: {addr: \"127.0.0.1:1\"}\n",
			"c.yaml:2: listen.imapp: unknown key"},
		{"prelogin budget too small", "limits: {max_prelogin_bytes: 100}\n",
			"limits.max_prelogin_bytes: must be at least 16384"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestHardeningDefaults(t *testing.T) {
	c := Default()
	if c.Limits.MaxConnectionsPerSource != DefaultMaxConnectionsPerSource || c.Limits.MaxPreLoginBytes != DefaultMaxPreLoginBytes {
		t.Errorf("limits %+v", c.Limits)
	}
	if c.GeneratedPasswordRequired() {
		t.Error("loopback-only default requires a generated password")
	}
	no := false
	c.Listen.SMTP = "0.0.0.0:587"
	c.RequireGeneratedPassword = &no
	if c.GeneratedPasswordRequired() {
		t.Error("an explicit false is not honoured")
	}
	for _, na := range c.Listen.All() {
		if na.AllowPlaintextAuth {
			t.Errorf("%s allows plaintext auth by default", na.Name)
		}
	}
}

func TestInlineSecretsAreNamed(t *testing.T) {
	t.Setenv("LAB_SECRET", "from-env")
	c, err := Parse("c.yaml", []byte(`providers:
  lab: {issuer: "http://127.0.0.1:1", client_id: x, client_secret: "literal-secret", imap: {addr: "127.0.0.1:1", tls: plain}}
  env: {issuer: "http://127.0.0.1:1", client_id: y, client_secret: "env:LAB_SECRET", imap: {addr: "127.0.0.1:1", tls: plain}}
log: {audit: audit.log}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.InlineSecrets(); !slices.Equal(got, []string{"providers.lab.client_secret"}) {
		t.Fatalf("inline secrets %v", got)
	}
	if c.Log.Audit != "audit.log" && !strings.HasSuffix(c.Log.Audit, "/audit.log") {
		t.Fatalf("audit path %q", c.Log.Audit)
	}
}

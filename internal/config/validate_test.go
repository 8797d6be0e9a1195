package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// custom is a valid custom provider line to build bad configs around.
const custom = "  lab: {issuer: \"http://127.0.0.1:5556\", client_id: x, imap: {addr: \"127.0.0.1:11993\", tls: implicit}}\n"

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "listen:\n  imap: \"127.0.0.1:1143\"\n  imapp: \"127.0.0.1:1144\"\n",
			"c.yaml:3: listen.imapp: unknown key"},
		{"unknown nested key", "providers:\n  lab:\n    issuer: \"http://127.0.0.1:1\"\n    client_id: x\n    imap: {addr: \"127.0.0.1:1\", tsl: implicit}\n",
			"c.yaml:5: providers.lab.imap.tsl: unknown key"},
		{"wrong type", "limits:\n  max_commands: many\n",
			"c.yaml:2: limits.max_commands: cannot unmarshal"},
		{"bad upstream tls", "providers:\n  lab:\n    issuer: \"http://127.0.0.1:1\"\n    client_id: x\n    imap: {addr: \"127.0.0.1:1\", tls: tsl}\n",
			`providers.lab.imap.tls: must be "implicit" or "starttls" (got "tsl")`},
		{"unknown preset", "providers:\n  w: {preset: microsoft, client_id: x}\n",
			`c.yaml:2: providers.w.preset: unknown preset "microsoft" (known: google, microsoft365, outlook)`},
		{"no client id", "providers:\n  w: {preset: microsoft365}\n",
			"providers.w.client_id: required"},
		{"google needs secret", "providers:\n  g: {preset: google, client_id: x}\n",
			"providers.g.client_secret: required by the google preset"},
		{"custom without endpoints", "providers:\n  lab: {client_id: x, imap: {addr: \"127.0.0.1:1\", tls: implicit}}\n",
			"providers.lab: needs a preset, an issuer (OIDC discovery), or explicit token_url and auth_url"},
		{"custom with explicit endpoints", "providers:\n  lab: {client_id: x, token_url: \"https://idp/t\", imap: {addr: \"h:993\"}}\n",
			"providers.lab: needs a preset"},
		{"plain upstream not loopback", "providers:\n  lab: {issuer: \"https://idp\", client_id: x, imap: {addr: \"mail.example.com:143\", tls: plain}}\n",
			`providers.lab.imap.tls: "plain" is allowed only for loopback addresses`},
		{"upstream tls unknown port", "providers:\n  lab: {issuer: \"https://idp\", client_id: x, imap: {addr: \"mail.example.com:7777\"}}\n",
			`providers.lab.imap.tls: must be "implicit" or "starttls" (got "")`},
		{"upstream addr", "providers:\n  lab: {issuer: \"https://idp\", client_id: x, imap: {addr: \"mail.example.com\", tls: implicit}}\n",
			"providers.lab.imap.addr: not a host:port address"},
		{"no upstream", "providers:\n  lab: {issuer: \"https://idp\", client_id: x}\n",
			"providers.lab: no mail server"},
		{"issuer over http", "providers:\n  lab: {issuer: \"http://idp.example.com\", client_id: x, imap: {addr: \"h:993\"}}\n",
			"providers.lab.issuer: must use https://"},
		{"tenant on google", "providers:\n  g: {preset: google, client_id: x, client_secret: y, tenant: t}\n",
			"providers.g.tenant: only used by the microsoft365 and outlook presets"},
		{"mechanism", "providers:\n  lab: {issuer: \"https://idp\", client_id: x, mechanism: plain, imap: {addr: \"h:993\"}}\n",
			`providers.lab.mechanism: must be XOAUTH2 or OAUTHBEARER (got "PLAIN")`},
		{"ca file missing", "providers:\n  lab: {issuer: \"https://idp\", client_id: x, ca_file: /nonexistent/ca.pem, imap: {addr: \"h:993\"}}\n",
			"providers.lab.ca_file: stat /nonexistent/ca.pem"},
		{"account unknown provider", "providers:\n" + custom + "accounts:\n  - {match: \"*@x.test\", provider: nope}\n",
			`c.yaml:4: accounts[0].provider: unknown provider "nope" (configured: lab)`},
		{"account bad match", "providers:\n" + custom + "accounts:\n  - {match: \"*.x.test\", provider: lab}\n",
			"accounts[0].match: must be an address (alice@example.com) or *@domain"},
		{"account wildcard domain", "providers:\n" + custom + "accounts:\n  - {match: \"*@*.x.test\", provider: lab}\n",
			"accounts[0].match: only a whole local part may be a wildcard"},
		{"upstream_user with wildcard", "providers:\n" + custom + "accounts:\n  - {match: \"*@x.test\", provider: lab, upstream_user: a@y}\n",
			"accounts[0].upstream_user: only allowed with an exact address"},
		{"listener unparsable", "listen: {imap: \"127.0.0.1\"}\n",
			"c.yaml:1: listen.imap: not a host:port address"},
		{"listener port", "listen: {imap: \"127.0.0.1:99999\"}\n",
			"listen.imap: port must be a number from 0 to 65535"},
		{"duplicate listeners", "listen: {imap: \"127.0.0.1:1143\", pop3: \"127.0.0.1:1143\"}\n",
			"listen.pop3: address 127.0.0.1:1143 is already used by listen.imap"},
		{"public url relative", "public_url: /consent\n",
			"c.yaml:1: public_url: must be an absolute http:// or https:// URL"},
		{"public url scheme", "public_url: \"ftp://x\"\n",
			"public_url: must be an absolute http:// or https:// URL"},
		{"tls half", "tls: {cert: c.pem}\n", "tls: cert and key must both be set"},
		{"store driver", "store: {driver: redis}\n", `store.driver: must be "file" or "postgres" (got "redis")`},
		{"postgres dsn", "store: {driver: postgres}\n", "store.dsn: required by the postgres driver"},
		{"log level", "log: {level: loud}\n", `log.level: must be debug, info, warn or error (got "loud")`},
		{"log format", "log: {format: xml}\n", `log.format: must be "console" or "json" (got "xml")`},
		{"limits", "limits: {max_line_bytes: 10}\n", "limits.max_line_bytes: must be at least 512"},
		{"syntax", "listen: [\n", "c.yaml: yaml: line"},
		{"secret env unset", "providers:\n  lab: {issuer: \"https://idp\", client_id: x, client_secret: \"env:OB_SURELY_UNSET_VAR\", imap: {addr: \"h:993\"}}\n",
			"c.yaml:2: providers.lab.client_secret: environment variable OB_SURELY_UNSET_VAR is not set or empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.yaml)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, tt.want)
			}
		})
	}
}

func TestAllProblemsReported(t *testing.T) {
	_, err := Parse("c.yaml", []byte("log: {level: loud, format: xml}\nstore: {driver: redis}\n"))
	for _, want := range []string{"log.level", "log.format", "store.driver"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

func TestSecretsNotInErrors(t *testing.T) {
	const secret = "Sup3rSecretValue"
	dir := t.TempDir()
	open := filepath.Join(dir, "open-secret")
	if err := os.WriteFile(open, []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		// A secret beside an unrelated error.
		"beside error": "providers:\n  lab: {issuer: \"https://idp\", client_id: x, client_secret: " + secret + ", imap: {addr: \"h:993\", tls: tsl}}\n",
		// A secret typed where a number belongs.
		"wrong type": "limits: {max_commands: " + secret + "}\n",
		// A secret under a misspelt key.
		"misspelt key": "providers:\n  lab:\n    client_secert: " + secret + "\n",
		// A secret file others can read.
		"open file": "providers:\n  lab: {issuer: \"https://idp\", client_id: x, client_secret: \"file:" + open + "\", imap: {addr: \"h:993\"}}\n",
		// An env secret with another problem.
		"env": "providers:\n  lab: {issuer: \"https://idp\", client_id: x, client_secret: \"env:OB_TEST_SECRET2\", imap: {addr: \"h:993\", tls: tsl}}\n",
	}
	t.Setenv("OB_TEST_SECRET2", secret)
	for name, y := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(y))
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("secret in error: %v", err)
			}
		})
	}
}

func TestOpenSecretFileRefused(t *testing.T) {
	f := filepath.Join(t.TempDir(), "s")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := Parse("c.yaml", []byte("providers:\n  lab: {issuer: \"https://idp\", client_id: x, client_secret: \"file:"+f+"\", imap: {addr: \"h:993\"}}\n"))
	if err == nil || !strings.Contains(err.Error(), "providers.lab.client_secret: secret file") || !strings.Contains(err.Error(), "readable by group or others") {
		t.Fatalf("err = %v", err)
	}
}

func TestEmptyUpstreamIsAbsent(t *testing.T) {
	c, err := Parse("c.yaml", []byte("providers:\n  lab: {issuer: \"http://127.0.0.1:1\", client_id: x, imap: {addr: \"127.0.0.1:2\", tls: plain}, pop3: {addr: \"\", tls: \"\"}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Providers["lab"].POP3.Enabled() || !c.Providers["lab"].IMAP.Enabled() {
		t.Fatal("Enabled wrong")
	}
}

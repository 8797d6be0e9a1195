package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/deploy"
)

func TestExampleLoads(t *testing.T) {
	c, err := Parse("oauthbridge.example.yaml", deploy.ExampleConfig)
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if got := c.Providers["lab"].IMAP.Addr; got != "127.0.0.1:11993" {
		t.Errorf("lab imap addr = %q", got)
	}
	work := c.Providers["work"]
	if work.TokenURL != "https://login.microsoftonline.com/organizations/oauth2/v2.0/token" {
		t.Errorf("work token url = %q", work.TokenURL)
	}
	if work.IMAP.Addr != "outlook.office365.com:993" || work.SMTP.TLS != "starttls" {
		t.Errorf("work upstreams = %+v %+v", work.IMAP, work.SMTP)
	}
	if len(c.Accounts) != 3 || c.Accounts[1].UpstreamUser != "alice@contoso.onmicrosoft.com" {
		t.Errorf("accounts = %+v", c.Accounts)
	}
	if c.Limits.LoginTimeout != time.Minute {
		t.Errorf("login_timeout = %v", c.Limits.LoginTimeout)
	}
}

func TestExampleFileMatchesEmbedded(t *testing.T) {
	b, err := os.ReadFile("../../deploy/oauthbridge.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(deploy.ExampleConfig) {
		t.Fatal("embedded example differs from the file")
	}
}

func TestDefault(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/tmp/xdg-state")
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	want := map[string]string{
		"state_dir":  "/tmp/xdg-state/oauthbridge",
		"imap":       "127.0.0.1:1143",
		"imaps":      "127.0.0.1:1993",
		"pop3":       "127.0.0.1:1110",
		"pop3s":      "127.0.0.1:1995",
		"smtp":       "127.0.0.1:1587",
		"smtps":      "127.0.0.1:1465",
		"http":       "127.0.0.1:8025",
		"public_url": "http://127.0.0.1:8025",
		"store":      "/tmp/xdg-state/oauthbridge/tokens.json",
		"log":        "info/console",
	}
	got := map[string]string{
		"state_dir": c.StateDir, "imap": c.Listen.IMAP, "imaps": c.Listen.IMAPS,
		"pop3": c.Listen.POP3, "pop3s": c.Listen.POP3S, "smtp": c.Listen.SMTP,
		"smtps": c.Listen.SMTPS, "http": c.Listen.HTTP, "public_url": c.PublicURL,
		"store": c.Store.Path, "log": c.Log.Level + "/" + c.Log.Format,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	if c.Limits.MaxConnections != DefaultMaxConnections || c.Limits.MaxCommands != DefaultMaxCommands {
		t.Errorf("limits = %+v", c.Limits)
	}
}

func TestEmptyFileIsDefault(t *testing.T) {
	c, err := Parse("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != DefaultListen || len(c.Providers) != 0 {
		t.Errorf("empty file: listen %+v providers %v", c.Listen, c.Providers)
	}
}

func TestPartialListenDisablesOthers(t *testing.T) {
	c, err := Parse("", []byte("listen: {imaps: \"127.0.0.1:0\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if all := c.Listen.All(); len(all) != 1 || all[0].Name != "imaps" {
		t.Errorf("listeners = %+v", all)
	}
	if c.PublicURL != "" {
		t.Errorf("public_url without http listener = %q", c.PublicURL)
	}
}

func TestRelativePathsFollowTheFile(t *testing.T) {
	c, err := Parse("/etc/ob/config.yaml", []byte("state_dir: state\ntls: {cert: c.pem, key: k.pem}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.StateDir != "/etc/ob/state" || c.TLS.Cert != "/etc/ob/c.pem" || c.Store.Path != "/etc/ob/state/tokens.json" {
		t.Errorf("paths: %q %q %q", c.StateDir, c.TLS.Cert, c.Store.Path)
	}
}

func TestGooglePreset(t *testing.T) {
	c, err := Parse("", []byte("providers:\n  g: {preset: google, client_id: id, client_secret: s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	g := c.Providers["g"]
	if g.AuthURL != "https://accounts.google.com/o/oauth2/v2/auth" || g.SMTP.Addr != "smtp.gmail.com:465" || g.SMTP.TLS != "implicit" {
		t.Errorf("google preset: %+v smtp %+v", g, g.SMTP)
	}
	if strings.Join(g.Scopes, " ") != "https://mail.google.com/ openid email" {
		t.Errorf("scopes = %v", g.Scopes)
	}
}

func TestOutlookTenant(t *testing.T) {
	c, err := Parse("", []byte("providers:\n  o: {preset: outlook, client_id: id}\n  t: {preset: microsoft365, client_id: id, tenant: contoso.com}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Providers["o"].DeviceURL; got != "https://login.microsoftonline.com/consumers/oauth2/v2.0/devicecode" {
		t.Errorf("outlook device url = %q", got)
	}
	if got := c.Providers["t"].AuthURL; got != "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/authorize" {
		t.Errorf("tenant auth url = %q", got)
	}
}

func TestSecretFromFileAndEnv(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "secret")
	if err := os.WriteFile(f, []byte("s3cr3t-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OB_TEST_SECRET", "s3cr3t-from-env")
	yml := "providers:\n" +
		"  a: {issuer: \"https://idp.example\", client_id: a, client_secret: \"file:" + f + "\", imap: {addr: \"imap.example:993\"}}\n" +
		"  b: {issuer: \"https://idp.example\", client_id: b, client_secret: \"env:OB_TEST_SECRET\", imap: {addr: \"imap.example:993\"}}\n"
	c, err := Parse("", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	if c.Providers["a"].ClientSecret.Value() != "s3cr3t-from-file" || c.Providers["b"].ClientSecret.Value() != "s3cr3t-from-env" {
		t.Error("secrets not resolved")
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := Secret("hunter2-very-secret")
	for _, got := range []string{s.String(), s.GoString()} {
		if strings.Contains(got, "hunter2") {
			t.Errorf("secret printed: %q", got)
		}
	}
	p := Provider{ClientSecret: s}
	if b, _ := s.MarshalText(); strings.Contains(string(b), "hunter2") {
		t.Error("MarshalText leaks")
	}
	if got := sprintAll(p); strings.Contains(got, "hunter2") {
		t.Errorf("fmt leaks the secret: %s", got)
	}
}

func TestErrorsAreInvalid(t *testing.T) {
	_, err := Parse("x.yaml", []byte("listen: {imap: nope}\n"))
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v does not match ErrInvalid", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("missing file: %v", err)
	}
}

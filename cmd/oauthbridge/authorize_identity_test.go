package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

// withIssuer rewrites labConfig's provider so that its issuer line says
// issuerYAML instead (explicit endpoints, another issuer).
func withIssuer(t *testing.T, dir string, idp *testidp.IdP, issuerYAML string) string {
	t.Helper()
	path := labConfig(t, dir, idp)
	yml, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Replace(string(yml), `issuer: "`+idp.URL+`"`, issuerYAML, 1)
	if out == string(yml) {
		t.Fatal("labConfig has no issuer line to replace")
	}
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// authorizeAs runs `authorize alice@example.test` with the device flow and
// approves it at idp as who; it returns the finished run and its exit code.
func authorizeAs(t *testing.T, cfg string, idp *testidp.IdP, who string) (*cmdRun, int) {
	t.Helper()
	r := start(t, strings.NewReader(testPassword+"\n"), nil,
		"authorize", "alice@example.test", "--config", cfg, "--password-stdin", "--flow", "device")
	m := userCodeRe.FindStringSubmatch(waitOutput(t, &r.stdout, "enter the code:"))
	if m == nil {
		t.Fatalf("no user code in:\n%s", r.stdout.String())
	}
	if err := idp.ApproveDevice(m[1], who); err != nil {
		t.Fatal(err)
	}
	return r, r.wait(t)
}

func saved(t *testing.T, dir, account string) bool {
	t.Helper()
	s, err := filestore.Open(filepath.Join(dir, "state", "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Get(context.Background(), account)
	return err == nil
}

// An ID token is believed only when its signature verifies with the
// issuer's published keys, as on the consent site.
func TestAuthorizeVerifiesIDToken(t *testing.T) {
	for _, forge := range []bool{false, true} {
		dir := isolate(t)
		idp := testidp.New(t)
		o := testidp.NewOIDC(t, idp)
		o.SetForge(forge)
		cfg := withIssuer(t, dir, idp, `issuer: "`+o.URL+`"`)
		r, code := authorizeAs(t, cfg, idp, "alice@example.test")
		if !forge && code != 0 {
			t.Fatalf("verified ID token: exit %d\nstderr:\n%s", code, r.stderr.String())
		}
		if forge && (code != 1 || !strings.Contains(r.stderr.String(), "cannot confirm who signed in")) {
			t.Fatalf("forged ID token: exit %d\nstderr:\n%s", code, r.stderr.String())
		}
		if saved(t, dir, "alice@example.test") == forge {
			t.Errorf("forged=%v: saved=%v", forge, !forge)
		}
	}
}

// A provider that says nothing about who signed in (no ID token, no
// userinfo endpoint) gets a note, and the grant is still saved.
func TestAuthorizeWithoutIdentityWarns(t *testing.T) {
	dir := isolate(t)
	idp := testidp.New(t)
	cfg := withIssuer(t, dir, idp, `auth_url: "`+idp.AuthURL()+`"
    token_url: "`+idp.TokenURL()+`"
    device_url: "`+idp.DeviceURL()+`"`)
	r, code := authorizeAs(t, cfg, idp, "alice@example.test")
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, r.stderr.String())
	}
	if !strings.Contains(r.stdout.String(), "Note: lab does not say who signed in") {
		t.Errorf("stdout:\n%s", r.stdout.String())
	}
	if !saved(t, dir, "alice@example.test") {
		t.Error("grant not saved")
	}
}

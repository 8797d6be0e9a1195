package main

import (
	"context"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

const testPassword = "correct horse battery"

var userCodeRe = regexp.MustCompile(`enter the code:\s+(\S+)`)

// storedRecord opens the store the command wrote and checks the password
// opens the grant.
func storedRecord(t *testing.T, dir, account string) (*tokenstore.Record, *tokenstore.Grant) {
	t.Helper()
	s, err := filestore.Open(filepath.Join(dir, "state", "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec, err := s.Get(context.Background(), account)
	if err != nil {
		t.Fatalf("no record for %s: %v", account, err)
	}
	g, err := tokenstore.Open(tokenstore.DeriveKey([]byte(testPassword), rec.KDF), account, rec.Sealed)
	if err != nil {
		t.Fatalf("grant does not open with the chosen password: %v", err)
	}
	return rec, g
}

// noSecrets fails if any secret reached the command's output.
func noSecrets(t *testing.T, r *cmdRun, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(r.stdout.String(), s) || strings.Contains(r.stderr.String(), s) {
			t.Errorf("secret %.6s... printed", s)
		}
	}
}

func TestAuthorizeDeviceFlow(t *testing.T) {
	dir := isolate(t)
	idp := testidp.New(t)
	cfg := labConfig(t, dir, idp)
	r := start(t, strings.NewReader(testPassword+"\n"), nil,
		"authorize", "Alice@Example.test", "--config", cfg, "--password-stdin")
	m := userCodeRe.FindStringSubmatch(waitOutput(t, &r.stdout, "enter the code:"))
	if m == nil {
		t.Fatalf("no user code in:\n%s", r.stdout.String())
	}
	if err := idp.ApproveDevice(m[1], "alice@example.test"); err != nil {
		t.Fatal(err)
	}
	if c := r.wait(t); c != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", c, r.stdout.String(), r.stderr.String())
	}
	if !strings.Contains(r.stdout.String(), "Done: alice@example.test is authorized with lab.") {
		t.Errorf("stdout:\n%s", r.stdout.String())
	}
	rec, g := storedRecord(t, dir, "alice@example.test")
	if rec.Provider != "lab" || rec.UpstreamUser != "alice@example.test" || rec.Status != tokenstore.StatusOK {
		t.Errorf("record %+v", rec)
	}
	if g.RefreshToken != idp.LatestRefreshToken("alice@example.test") {
		t.Error("stored refresh token is not the issued one")
	}
	noSecrets(t, r, g.RefreshToken, g.AccessToken, testPassword, idp.ClientSecret)
}

func TestAuthorizeRefusesAnotherIdentity(t *testing.T) {
	dir := isolate(t)
	idp := testidp.New(t)
	cfg := labConfig(t, dir, idp)
	r := start(t, strings.NewReader(testPassword+"\n"), nil, "authorize", "alice@example.test", "--config", cfg, "--password-stdin")
	m := userCodeRe.FindStringSubmatch(waitOutput(t, &r.stdout, "enter the code:"))
	idp.ApproveDevice(m[1], "mallory@example.test")
	if c := r.wait(t); c != 1 {
		t.Fatalf("exit %d", c)
	}
	if e := r.stderr.String(); !strings.Contains(e, "you signed in as mallory@example.test, not alice@example.test; nothing was saved") {
		t.Fatalf("stderr:\n%s", e)
	}
	s, _ := filestore.Open(filepath.Join(dir, "state", "tokens.json"))
	defer s.Close()
	if _, err := s.Get(context.Background(), "alice@example.test"); err == nil {
		t.Fatal("a token for the wrong identity was saved")
	}
}

func TestAuthorizeDeviceDenied(t *testing.T) {
	dir := isolate(t)
	idp := testidp.New(t)
	r := start(t, strings.NewReader(testPassword+"\n"), nil, "authorize", "alice@example.test", "--config", labConfig(t, dir, idp), "--password-stdin")
	m := userCodeRe.FindStringSubmatch(waitOutput(t, &r.stdout, "enter the code:"))
	idp.DenyDevice(m[1])
	if c := r.wait(t); c != 1 || !strings.Contains(r.stderr.String(), "you declined") {
		t.Fatalf("exit %d stderr %q", c, r.stderr.String())
	}
}

func TestAuthorizePasteFlow(t *testing.T) {
	dir := isolate(t)
	idp := testidp.New(t)
	cfg := labConfig(t, dir, idp)
	stdin, feed := io.Pipe()
	defer feed.Close()
	r := start(t, stdin, nil, "authorize", "--flow", "paste", "bob@example.test", "--config", cfg, "--password-stdin")
	out := waitOutput(t, &r.stdout, "paste it here:")
	authURL := regexp.MustCompile(`(?m)^\s+(http://\S+/auth\?\S+)$`).FindStringSubmatch(out)
	if authURL == nil {
		t.Fatalf("no authorization URL in:\n%s", out)
	}
	u, _ := url.Parse(authURL[1])
	q := u.Query()
	if q.Get("redirect_uri") != "http://127.0.0.1" || q.Get("code_challenge_method") != "S256" || q.Get("login_hint") != "bob@example.test" {
		t.Errorf("authorization request %v", q)
	}
	redirect, err := idp.Approve(authURL[1], "bob@example.test")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(feed, redirect+"\n"+testPassword+"\n")
	if c := r.wait(t); c != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", c, r.stdout.String(), r.stderr.String())
	}
	_, g := storedRecord(t, dir, "bob@example.test")
	noSecrets(t, r, g.RefreshToken, g.AccessToken, testPassword, idp.ClientSecret)
}

func TestAuthorizePasteWrongState(t *testing.T) {
	dir := isolate(t)
	idp := testidp.New(t)
	stdin, feed := io.Pipe()
	defer feed.Close()
	r := start(t, stdin, nil, "authorize", "bob@example.test", "--flow", "paste", "--config", labConfig(t, dir, idp), "--password-stdin")
	waitOutput(t, &r.stdout, "paste it here:")
	io.WriteString(feed, "http://127.0.0.1/?code=abc&state=forged\n")
	if c := r.wait(t); c != 1 || !strings.Contains(r.stderr.String(), "state mismatch") {
		t.Fatalf("exit %d stderr %q", c, r.stderr.String())
	}
}

func TestAuthorizeErrors(t *testing.T) {
	dir := isolate(t)
	idp := testidp.New(t)
	cfg := labConfig(t, dir, idp)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"authorize"}, 2, "usage: oauthbridge authorize ACCOUNT"},
		{[]string{"authorize", "a@example.test", "--flow", "carrier-pigeon"}, 2, "usage"},
		{[]string{"authorize", "carol@elsewhere.test", "--config", cfg}, 1, "carol@elsewhere.test matches no accounts: entry"},
		{[]string{"authorize", "a@example.test"}, 1, "no configuration file"},
	}
	for _, tt := range tests {
		r := start(t, strings.NewReader(""), nil, tt.args...)
		if c := r.wait(t); c != tt.code || !strings.Contains(r.stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, c, r.stderr.String(), tt.code, tt.want)
		}
	}
}

func TestAuthorizeShortPassword(t *testing.T) {
	dir := isolate(t)
	idp := testidp.New(t)
	r := start(t, strings.NewReader("short\n"), nil, "authorize", "alice@example.test", "--config", labConfig(t, dir, idp), "--password-stdin")
	m := userCodeRe.FindStringSubmatch(waitOutput(t, &r.stdout, "enter the code:"))
	idp.ApproveDevice(m[1], "alice@example.test")
	if c := r.wait(t); c != 1 || !strings.Contains(r.stderr.String(), "at least 8 characters") {
		t.Fatalf("exit %d stderr %q", c, r.stderr.String())
	}
}

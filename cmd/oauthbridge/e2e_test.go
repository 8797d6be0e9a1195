package main

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// TestAuthorizeThenServe is the README's path in-process: authorize an
// account from the terminal, start serve, and log in with the chosen
// password through the proxy to an OAuth-only IMAP server.
func TestAuthorizeThenServe(t *testing.T) {
	dir := isolate(t)
	idp := testidp.New(t)
	mail := imaptest.Start(t, imaptest.Options{Validate: idp.Validate, Users: []string{"alice@example.test"}, TLS: upstream.Plain})
	cfg := labConfig(t, dir, idp)
	data, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(data), `imap: {addr: "127.0.0.1:1"`, `imap: {addr: "`+mail.Addr+`"`, 1)), 0o600)

	auth := start(t, strings.NewReader(testPassword+"\n"), nil, "authorize", "alice@example.test", "--config", cfg, "--password-stdin")
	m := userCodeRe.FindStringSubmatch(waitOutput(t, &auth.stdout, "enter the code:"))
	idp.ApproveDevice(m[1], "alice@example.test")
	if c := auth.wait(t); c != 0 {
		t.Fatalf("authorize exit %d:\n%s", c, auth.stderr.String())
	}

	addrs := make(chan map[string]string, 1)
	srv := start(t, nil, func(a map[string]string) { addrs <- a }, "serve", "--config", cfg)
	a := <-addrs
	c, err := net.Dial("tcp", a["imap"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	expect := func(prefix string) string {
		t.Helper()
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %q: %v", prefix, err)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		}
	}
	expect("* OK")
	c.Write([]byte(`a1 LOGIN alice@example.test "` + testPassword + `"` + "\r\n"))
	if line := expect("a1 "); !strings.HasPrefix(line, "a1 OK") {
		t.Fatalf("login: %q", line)
	}
	c.Write([]byte("a2 SELECT INBOX\r\n"))
	if line := expect("a2 "); !strings.HasPrefix(line, "a2 OK") {
		t.Fatalf("select: %q", line)
	}
	c.Write([]byte("a3 LOGOUT\r\n"))
	expect("a3 OK")
	c.Close()
	if mail.Logins() != 1 {
		t.Errorf("upstream logins %d", mail.Logins())
	}
	srv.cancel()
	if code := srv.wait(t); code != 0 {
		t.Fatalf("serve exit %d", code)
	}
	log := srv.stderr.String()
	if !strings.Contains(log, `"account":"alice@example.test"`) || !strings.Contains(log, `"result":"ok"`) {
		t.Errorf("no summary line for the login in:\n%s", log)
	}
	_, g := storedRecord(t, dir, "alice@example.test")
	for _, secret := range []string{testPassword, g.RefreshToken, g.AccessToken, idp.ClientSecret} {
		if strings.Contains(log, secret) || strings.Contains(auth.stderr.String()+auth.stdout.String(), secret) {
			t.Errorf("secret %.6s... in the logs", secret)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "tokens.json")); err != nil {
		t.Error(err)
	}
}

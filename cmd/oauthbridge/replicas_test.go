package main

import (
	"bufio"
	"github.com/oauthbridge/oauthbridge/tokenstore/postgres/pgtest"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// replicaConfig writes one replica's configuration: its own state
// directory and ephemeral loopback listeners, the shared PostgreSQL store
// (the DSN through the environment, as a deployment would), one public
// URL for all replicas.
func replicaConfig(t *testing.T, dir, name string, idp *testidp.IdP, mailAddr string) string {
	t.Helper()
	yml := `state_dir: ` + name + `-state
listen: {imap: "127.0.0.1:0", http: "127.0.0.1:0"}
public_url: "https://mail-bridge.example.test"
store: {driver: postgres, dsn: "env:OB_TEST_REPLICA_DSN"}
providers:
  lab:
    issuer: "` + idp.URL + `"
    client_id: ` + testidp.ClientID + `
    client_secret: "` + idp.ClientSecret + `"
    imap: {addr: "` + mailAddr + `", tls: plain}
accounts:
  - {match: "*@example.test", provider: lab}
log: {level: debug, format: json}
`
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var (
	consentPathRe = regexp.MustCompile(`/consent/[A-Za-z0-9_-]{43}`)
	csrfRe        = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	deviceCodeRe  = regexp.MustCompile(`<p class="code"[^>]*>([^<]+)</p>`)
)

// TestReplicasShareConsent: two serve processes on one PostgreSQL store.
// A login refused by replica A carries a link; replica B serves its page
// and starts the device flow; A's copy of the page shows B's code and,
// once the user approved, the result; then A logs the user in with the
// grant B saved and the password typed at A.
func TestReplicasShareConsent(t *testing.T) {
	dir := isolate(t)
	t.Setenv("OB_TEST_REPLICA_DSN", pgtest.Schema(t))
	idp := testidp.New(t)
	mail := imaptest.Start(t, imaptest.Options{Validate: idp.Validate, Users: []string{"alice@example.test"}, TLS: upstream.Plain})
	a := startReplica(t, replicaConfig(t, dir, "a", idp, mail.Addr))
	b := startReplica(t, replicaConfig(t, dir, "b", idp, mail.Addr))

	if r := pageAt(t, b.addrs["http"], "/readyz"); r != "ready\n" {
		t.Fatalf("/readyz on a postgres replica: %q", r)
	}
	refusal := imapLogin(t, a.addrs["imap"], "alice@example.test", testPassword)
	link := consentPathRe.FindString(refusal)
	if !strings.HasPrefix(refusal, "a1 NO") || link == "" {
		t.Fatalf("first login on A: %q, want NO with a consent link", refusal)
	}
	page := pageAt(t, b.addrs["http"], link)
	csrf := csrfRe.FindStringSubmatch(page)
	if !strings.Contains(page, "alice@example.test") || csrf == nil {
		t.Fatalf("replica B does not serve the link A gave out:\n%s", page)
	}
	if code := postAt(t, b.addrs["http"], link+"/device", "csrf="+csrf[1]); code != http.StatusSeeOther {
		t.Fatalf("device flow on B: %d", code)
	}
	m := deviceCodeRe.FindStringSubmatch(pageAt(t, a.addrs["http"], link))
	if m == nil {
		t.Fatal("replica A's page does not show the code B obtained")
	}
	if err := idp.ApproveDevice(strings.TrimSpace(m[1]), "alice@example.test"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for page = pageAt(t, a.addrs["http"], link); !strings.Contains(page, "is connected"); page = pageAt(t, a.addrs["http"], link) {
		if time.Now().After(deadline) {
			t.Fatalf("consent never completed; A shows:\n%s", page)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := imapLogin(t, a.addrs["imap"], "alice@example.test", testPassword); !strings.HasPrefix(r, "a1 OK") {
		t.Fatalf("login on A after consent through B: %q", r)
	}
	if page := pageAt(t, b.addrs["http"], link); !strings.Contains(page, "no longer works") {
		t.Errorf("the used link still opens on B:\n%s", page)
	}
}

// replica is one in-process serve.
type replica struct {
	run   *cmdRun
	addrs map[string]string
}

func startReplica(t *testing.T, cfg string) *replica {
	t.Helper()
	ready := make(chan map[string]string, 1)
	r := &replica{run: start(t, nil, func(a map[string]string) { ready <- a }, "serve", "--config", cfg)}
	select {
	case r.addrs = <-ready:
	case code := <-r.run.code:
		t.Fatalf("serve exit %d:\n%s", code, r.run.stderr.String())
	case <-time.After(90 * time.Second):
		t.Fatal("serve did not start")
	}
	t.Cleanup(func() {
		r.run.cancel()
		if code := r.run.wait(t); code != 0 {
			t.Errorf("serve exit %d", code)
		}
		if strings.Contains(r.run.stderr.String(), testPassword) {
			t.Error("a replica logged the password")
		}
	})
	return r
}

// imapLogin sends one LOGIN and returns the tagged answer.
func imapLogin(t *testing.T, addr, user, password string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	c.Write([]byte(`a1 LOGIN ` + user + ` "` + password + `"` + "\r\n"))
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("LOGIN: %v", err)
		}
		if strings.HasPrefix(line, "a1 ") {
			return strings.TrimRight(line, "\r\n")
		}
	}
}

// noRedirects is one browser: its cookies (the consent owner cookie) go
// to both replicas, as a browser's do behind one load-balanced name
// (cookies ignore the port).
var noRedirects = &http.Client{Timeout: 30 * time.Second, Jar: mustJar(),
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func mustJar() http.CookieJar {
	j, err := cookiejar.New(nil)
	if err != nil {
		panic(err)
	}
	return j
}

func pageAt(t *testing.T, addr, path string) string {
	t.Helper()
	resp, err := noRedirects.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(body)
}

func postAt(t *testing.T, addr, path, form string) int {
	t.Helper()
	resp, err := noRedirects.Post("http://"+addr+path, "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

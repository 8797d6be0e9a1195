package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// freePort returns a loopback address nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Without a running proxy, list and show read the store; sessions are
// unknown and say so.
func TestAccountsFromTheStore(t *testing.T) {
	w := newOpsWorld(t)
	w.seed(t, opsUser)
	code, out, errOut := runCmd(t, "", "accounts", "list", "--config", w.cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "ACCOUNT") || !strings.HasPrefix(lines[1], opsUser) ||
		!strings.Contains(lines[1], " lab ") || !strings.Contains(lines[1], " ok ") || !strings.HasSuffix(strings.TrimSpace(lines[1]), "?") {
		t.Errorf("table:\n%s", out)
	}
	if !strings.Contains(out, "the proxy did not answer") {
		t.Errorf("no note that sessions are unknown:\n%s", out)
	}
	code, out, _ = runCmd(t, "", "accounts", "show", "ALICE@example.test", "--config", w.cfg)
	if code != 0 || !strings.Contains(out, "account:        "+opsUser) || !strings.Contains(out, "state:          ok") {
		t.Errorf("show: exit %d:\n%s", code, out)
	}
	if code, _, errOut := runCmd(t, "", "accounts", "show", "nobody@example.test", "--config", w.cfg); code != 1 || !strings.Contains(errOut, "no such account") {
		t.Errorf("show unknown: exit %d %q", code, errOut)
	}
	if code, _, _ := runCmd(t, "", "accounts", "list", "extra", "--config", w.cfg); code != 2 {
		t.Errorf("usage: exit %d", code)
	}
	_, js, _ := runCmd(t, "", "accounts", "list", "--json", "--config", w.cfg)
	if !strings.Contains(js, `"state": "ok"`) || strings.Contains(js, "sealed") {
		t.Errorf("json:\n%s", js)
	}
}

// With the proxy running, list shows its open sessions; a local revoke
// takes effect at the next login.
func TestAccountsLiveAndRevoke(t *testing.T) {
	w := newOpsWorld(t)
	w.seed(t, opsUser)
	httpAddr := freePort(t)
	w.writeConfig(t, w.imap.Addr, "")
	data := strings.Replace(readFile(t, w.cfg), `http: "127.0.0.1:0"`, `http: "`+httpAddr+`"`, 1)
	writeFile(t, w.cfg, data)
	w.serve(t)
	loggedIn(t, w.addrs["imap"])
	_, out, _ := runCmd(t, "", "accounts", "list", "--config", w.cfg)
	if fields := strings.Fields(strings.Split(out, "\n")[1]); fields[len(fields)-1] != "1" || strings.Contains(out, "did not answer") {
		t.Errorf("live list:\n%s", out)
	}
	code, out, errOut := runCmd(t, "", "accounts", "revoke", opsUser, "--local-only", "--config", w.cfg)
	if code != 0 || !strings.Contains(out, "revoked here") || !strings.Contains(out, "--local-only") {
		t.Fatalf("revoke: exit %d:\n%s%s", code, out, errOut)
	}
	c := dialWire(t, w.addrs["imap"])
	c.expect("* OK")
	c.send("a1 LOGIN " + opsUser + " \"" + testPassword + "\"\r\n")
	if line := c.expect("a1 "); !strings.Contains(line, "NO [ALERT] Authorisation needed") {
		t.Errorf("login after revoke: %q", line)
	}
}

// With a revocation endpoint and the local password, revoke also asks
// the identity provider (RFC 7009) to drop the refresh token.
func TestAccountsRevokeAtIdP(t *testing.T) {
	w := newOpsWorld(t)
	w.seed(t, opsUser)
	var mu sync.Mutex
	var form map[string][]string
	idp := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		form = r.PostForm
		mu.Unlock()
	}))
	defer idp.Close()
	data := strings.Replace(readFile(t, w.cfg), "    imap:", "    revoke_url: \""+idp.URL+"/revoke\"\n    imap:", 1)
	writeFile(t, w.cfg, data)
	rt := w.refreshToken(t, opsUser)
	code, out, errOut := runCmd(t, testPassword+"\n", "accounts", "revoke", opsUser, "--password-stdin", "--config", w.cfg)
	if code != 0 || !strings.Contains(out, "refresh token revoked at lab") {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if form["token"] == nil || form["token"][0] != rt || form["token_type_hint"][0] != "refresh_token" {
		t.Errorf("revocation request: %v", form)
	}
	if strings.Contains(out+errOut, rt) {
		t.Error("the refresh token is in the output")
	}
	rec := w.record(t, opsUser)
	if rec.Status != tokenstore.StatusRevoked || len(rec.Sealed) != 0 {
		t.Errorf("record after revoke: %s, %d sealed bytes", rec.Status, len(rec.Sealed))
	}
}

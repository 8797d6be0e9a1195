package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
	"github.com/oauthbridge/oauthbridge/proxy/pop3front/pop3test"
	"github.com/oauthbridge/oauthbridge/proxy/smtpfront/smtptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

// asNetwork makes 127.0.0.2 count as a network address for the test, so
// the exposure policy can be tried without binding anything but loopback.
func asNetwork(t *testing.T) {
	t.Cleanup(func() { isLoopbackAddr = loopbackAddr })
	isLoopbackAddr = func(addr string) bool {
		return !strings.HasPrefix(addr, "127.0.0.2:") && loopbackAddr(addr)
	}
}

// exposedLab writes a configuration whose imap, pop3 and smtp listeners
// are on 127.0.0.2 (allow_plaintext_auth as given), backed by real
// upstreams, and stores a grant for alice; it returns the config path.
func exposedLab(t *testing.T, dir string, allowPlain bool) string {
	t.Helper()
	idp := testidp.New(t)
	imapUp := imaptest.Start(t, imaptest.Options{Validate: idp.Validate, TLS: upstream.Plain, Users: []string{"alice@example.test"}})
	pop3Up := &pop3test.Server{Validate: idp.Validate}
	smtpUp := &smtptest.Server{Validate: idp.Validate}
	for _, s := range []interface{ Start() error }{pop3Up, smtpUp} {
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { pop3Up.Close(); smtpUp.Close() })
	opt := ""
	if allowPlain {
		opt = ", allow_plaintext_auth: true"
	}
	yml := `state_dir: state
listen:
  imap: {addr: "127.0.0.2:0"` + opt + `}
  pop3: {addr: "127.0.0.2:0"` + opt + `}
  smtp: {addr: "127.0.0.2:0"` + opt + `}
providers:
  lab:
    issuer: "` + idp.URL + `"
    client_id: ` + testidp.ClientID + `
    client_secret: "` + idp.ClientSecret + `"
    imap: {addr: "` + imapUp.Addr + `", tls: plain}
    pop3: {addr: "` + pop3Up.Addr() + `", tls: plain}
    smtp: {addr: "` + smtpUp.Addr + `", tls: plain}
accounts:
  - {match: "*@example.test", provider: lab}
log: {level: debug, format: json, audit: audit.log}
`
	path := filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	saveGrant(t, filepath.Join(dir, "state", "tokens.json"), idp, "alice@example.test")
	return path
}

// saveGrant stores a grant the way consent would, with cheap KDF
// parameters (the first login upgrades them to the default).
func saveGrant(t *testing.T, path string, idp *testidp.IdP, account string) {
	t.Helper()
	st, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := broker.New(st, map[string]*broker.Provider{"lab": {Name: "lab", OAuth2: idp.Config(""), HTTPClient: idp.Client()}}, nil)
	b.KDF = func() tokenstore.KDFParams {
		p := tokenstore.DefaultKDF()
		p.MemoryKiB, p.Time, p.Threads = 64, 1, 1
		return p
	}
	if err := b.Save(context.Background(), account, "lab", "", []byte(testPassword), idp.Issue(account)); err != nil {
		t.Fatal(err)
	}
}

// wire is a raw protocol conversation that can switch to TLS.
type wire struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialWire(t *testing.T, addr string) *wire {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &wire{t: t, conn: c, br: bufio.NewReader(c)}
}

// say sends a line and returns the reply line that starts with until
// (skipping untagged and continuation lines before it).
func (w *wire) say(line, until string) string {
	w.t.Helper()
	if line != "" {
		w.send(line + "\r\n")
	}
	return w.expect(until)
}

// send writes exact bytes. A failure names only the command's first
// word: lines carry passwords.
func (w *wire) send(s string) {
	w.t.Helper()
	if _, err := w.conn.Write([]byte(s)); err != nil {
		verb, _, _ := strings.Cut(s, " ")
		w.t.Fatalf("send %q: %v", verb, err)
	}
}

// expect skips lines until one starts with prefix and returns it.
func (w *wire) expect(prefix string) string {
	w.t.Helper()
	for {
		l, err := w.br.ReadString('\n')
		if err != nil {
			w.t.Fatalf("waiting for %q: %v", prefix, err)
		}
		if strings.HasPrefix(l, prefix) {
			return strings.TrimRight(l, "\r\n")
		}
	}
}

// startTLS runs the client handshake, trusting the proxy's self-signed
// certificate from the state directory.
func (w *wire) startTLS(stateDir string) {
	w.t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join(stateDir, "cert.pem"))
	if err != nil {
		w.t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemBytes)
	tc := tls.Client(w.conn, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err := tc.Handshake(); err != nil {
		w.t.Fatalf("TLS handshake: %v", err)
	}
	w.conn, w.br = tc, bufio.NewReader(tc)
}

func plainAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

func serveExposed(t *testing.T, allowPlain bool) (map[string]string, string, *cmdRun) {
	t.Helper()
	dir := isolate(t)
	asNetwork(t)
	cfg := exposedLab(t, dir, allowPlain)
	addrs := make(chan map[string]string, 1)
	r := start(t, nil, func(a map[string]string) { addrs <- a }, "serve", "--config", cfg)
	select {
	case a := <-addrs:
		return a, filepath.Join(dir, "state"), r
	case c := <-r.code:
		t.Fatalf("serve exited %d:\n%s", c, r.stderr.String())
	}
	return nil, "", nil
}

// On a listener off loopback, a password login is refused until the
// client has started TLS, on every protocol; after STARTTLS it works.
func TestPlaintextLoginRefusedOffLoopbackUntilSTARTTLS(t *testing.T) {
	a, state, _ := serveExposed(t, false)
	user := "alice@example.test"

	imap := dialWire(t, a["imap"])
	if g := imap.say("", "* OK"); !strings.Contains(g, "LOGINDISABLED") || !strings.Contains(g, "STARTTLS") || strings.Contains(g, "AUTH=") {
		t.Fatalf("IMAP greeting offers login before TLS: %q", g)
	}
	if r := imap.say(`a1 LOGIN `+user+` "`+testPassword+`"`, "a1 "); !strings.HasPrefix(r, "a1 NO [PRIVACYREQUIRED]") {
		t.Fatalf("IMAP LOGIN before STARTTLS: %q", r)
	}
	imap.say("a2 STARTTLS", "a2 OK")
	imap.startTLS(state)
	if r := imap.say(`a3 LOGIN `+user+` "`+testPassword+`"`, "a3 "); !strings.HasPrefix(r, "a3 OK") {
		t.Fatalf("IMAP LOGIN after STARTTLS: %q", r)
	}

	pop := dialWire(t, a["pop3"])
	pop.say("", "+OK")
	if r := pop.say("USER "+user, ""); !strings.HasPrefix(r, "-ERR") || !strings.Contains(r, "STLS") {
		t.Fatalf("POP3 USER before STLS: %q", r)
	}
	pop.say("STLS", "+OK")
	pop.startTLS(state)
	pop.say("USER "+user, "+OK")
	if r := pop.say("PASS "+testPassword, ""); !strings.HasPrefix(r, "+OK") {
		t.Fatalf("POP3 PASS after STLS: %q", r)
	}

	smtp := dialWire(t, a["smtp"])
	smtp.say("", "220 ")
	if r := smtp.say("EHLO client.test", "250 "); strings.Contains(r, "AUTH") {
		t.Fatalf("SMTP offers AUTH before STARTTLS: %q", r)
	}
	if r := smtp.say("AUTH PLAIN "+plainAuth(user, testPassword), ""); !strings.HasPrefix(r, "530 ") {
		t.Fatalf("SMTP AUTH before STARTTLS: %q", r)
	}
	smtp.say("STARTTLS", "220 ")
	smtp.startTLS(state)
	smtp.say("EHLO client.test", "250 ")
	if r := smtp.say("AUTH PLAIN "+plainAuth(user, testPassword), ""); !strings.HasPrefix(r, "235 ") {
		t.Fatalf("SMTP AUTH after STARTTLS: %q", r)
	}
}

// allow_plaintext_auth: true lets old devices log in without TLS, and
// says so loudly at start; the audit file records the login.
func TestAllowPlaintextAuthIsAWarnedOptIn(t *testing.T) {
	a, state, r := serveExposed(t, true)
	imap := dialWire(t, a["imap"])
	if g := imap.say("", "* OK"); strings.Contains(g, "LOGINDISABLED") {
		t.Fatalf("LOGINDISABLED despite allow_plaintext_auth: %q", g)
	}
	if r := imap.say(`a1 LOGIN alice@example.test "`+testPassword+`"`, "a1 "); !strings.HasPrefix(r, "a1 OK") {
		t.Fatalf("plain LOGIN with allow_plaintext_auth: %q", r)
	}
	log := r.stderr.String()
	for _, name := range []string{"imap", "pop3", "smtp"} {
		if !strings.Contains(log, `"level":"warn"`) || !strings.Contains(log, `accepts passwords without TLS (allow_plaintext_auth)`) ||
			!strings.Contains(log, `"listener":"`+name+`"`) {
			t.Errorf("no start-up warning for %s in:\n%s", name, log)
		}
	}
	audit := filepath.Join(filepath.Dir(state), "audit.log")
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(audit)
		if strings.Contains(string(b), `"result":"ok"`) && strings.Contains(string(b), `"user":"alice@example.test"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit line for the login in %s: %q", audit, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st, err := os.Stat(audit); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("audit file mode: %v %v", st.Mode(), err)
	}
}

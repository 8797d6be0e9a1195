package doctor

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/internal/provider"
	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
	"github.com/oauthbridge/oauthbridge/proxy/pop3front/pop3test"
	"github.com/oauthbridge/oauthbridge/proxy/smtpfront/smtptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

const (
	user     = "alice@example.test"
	password = "alice local password"
)

// lab is an IdP, a mail server per protocol, and a store holding alice's
// grant.
type lab struct {
	idp   *testidp.IdP
	store tokenstore.Store
	p     *provider.Provider
}

func newLab(t *testing.T, imapAddr string) *lab {
	t.Helper()
	idp := testidp.New(t)
	if imapAddr == "" {
		imapAddr = imaptest.Start(t, imaptest.Options{Validate: idp.Validate, Users: []string{user}, TLS: upstream.Plain}).Addr
	}
	pop := &pop3test.Server{Validate: idp.Validate}
	sub := &smtptest.Server{Validate: idp.Validate}
	for _, s := range []interface{ Start() error }{pop, sub} {
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { pop.Close(); sub.Close() })
	cfg, err := config.Parse("", []byte(`providers:
  lab:
    issuer: "`+idp.URL+`"
    client_id: `+testidp.ClientID+`
    client_secret: "`+idp.ClientSecret+`"
    imap: {addr: "`+imapAddr+`", tls: plain}
    pop3: {addr: "`+pop.Addr()+`", tls: plain}
    smtp: {addr: "`+sub.Addr+`", tls: plain}
`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := provider.New(context.Background(), "lab", cfg.Providers["lab"], "", nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := filestore.Open(filepath.Join(t.TempDir(), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	b := broker.New(store, map[string]*broker.Provider{"lab": {Name: "lab", OAuth2: p.OAuth2, HTTPClient: p.HTTPClient}}, nil)
	b.KDF = func() tokenstore.KDFParams { k := tokenstore.DefaultKDF(); k.MemoryKiB, k.Threads = 64, 1; return k }
	if err := b.Save(context.Background(), user, "lab", user, []byte(password), idp.Issue(user)); err != nil {
		t.Fatal(err)
	}
	return &lab{idp: idp, store: store, p: p}
}

func (l *lab) check(t *testing.T, pw string) (*Runner, string) {
	t.Helper()
	var out bytes.Buffer
	r := &Runner{Out: &out}
	a := &Account{Store: l.store, Providers: map[string]*provider.Provider{"lab": l.p}, Timeout: 20 * time.Second}
	a.Check(context.Background(), r, user, []byte(pw))
	return r, out.String()
}

// All green: the stored token is still valid, yet doctor refreshes, and
// logs in with each protocol.
func TestAccountAllGreen(t *testing.T) {
	l := newLab(t, "")
	r, out := l.check(t, password)
	if r.Count(Fail) != 0 || r.Count(Pass) != 6 {
		t.Fatalf("want 6 passes:\n%s", out)
	}
	for _, want := range []string{"[PASS] account alice@example.test: token refresh at lab: refreshed", `imap login at`, `SELECT INBOX answered "D2 OK`, `STAT answered "+OK`, `NOOP answered "250`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if l.idp.RefreshRequests() != 1 {
		t.Errorf("%d refreshes at the IdP, want 1", l.idp.RefreshRequests())
	}
	for _, s := range l.idp.Secrets() {
		if strings.Contains(out, s) {
			t.Errorf("a secret (%d chars) is in the report", len(s))
		}
	}
}

func TestAccountFailuresNameTheStep(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	l := newLab(t, closed)
	r, out := l.check(t, "not the password")
	if r.Count(Fail) != 1 || !strings.Contains(out, "[FAIL] account alice@example.test: local password") ||
		!strings.Contains(out, "hint: use the local password chosen") {
		t.Errorf("wrong password:\n%s", out)
	}
	r, out = l.check(t, password)
	if r.Count(Fail) != 1 || !strings.Contains(out, "[FAIL] account alice@example.test: imap login at "+closed) ||
		!strings.Contains(out, "hint: nothing answers at "+closed) || !strings.Contains(out, "[PASS] account alice@example.test: pop3 login") {
		t.Errorf("imap server down:\n%s", out)
	}
	l.idp.Revoke(user)
	r, out = l.check(t, password)
	if r.Count(Fail) != 1 || !strings.Contains(out, "[FAIL] account alice@example.test: token refresh at lab") ||
		!strings.Contains(out, "run `oauthbridge authorize alice@example.test`") {
		t.Errorf("revoked at the IdP:\n%s", out)
	}
	_, out = l.check(t, password)
	if !strings.Contains(out, "[FAIL] account alice@example.test: stored grant: alice@example.test is needs_consent") {
		t.Errorf("after the refusal the record needs consent:\n%s", out)
	}
}

func TestIdPCheck(t *testing.T) {
	l := newLab(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	detail, err := IdP(ctx, l.p)
	if err != nil || !strings.Contains(detail, "token endpoint") || !strings.Contains(detail, "answered HTTP 4") {
		t.Errorf("IdP: %q, %v", detail, err)
	}
	cfg, _ := config.Parse("", []byte("providers:\n  gone: {issuer: \"http://127.0.0.1:1\", client_id: x, imap: {addr: \"127.0.0.1:1\", tls: plain}}\n"))
	p, err := provider.New(ctx, "gone", cfg.Providers["gone"], "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := IdP(ctx, p); err == nil || !strings.Contains(hintOf(err), "cannot be reached") {
		t.Errorf("unreachable IdP: %v, hint %q", err, hintOf(err))
	}
}

// notConnected is an IMAP server that accepts any token and then answers
// as Exchange Online does for a mailbox the token cannot open.
func notConnected(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				c.Write([]byte("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] Exchange ready\r\n"))
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					tag, _, _ := strings.Cut(line, " ")
					if strings.Contains(line, "AUTHENTICATE") {
						c.Write([]byte(tag + " OK AUTHENTICATE completed.\r\n"))
					} else {
						c.Write([]byte(tag + " BAD User is authenticated but not connected.\r\n"))
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestAccountMailboxNotConnected(t *testing.T) {
	l := newLab(t, notConnected(t))
	_, out := l.check(t, password)
	if !strings.Contains(out, "[FAIL] account alice@example.test: imap login at") ||
		!strings.Contains(out, "User is authenticated but not connected") ||
		!strings.Contains(out, "hint: Microsoft accepted the token but did not open the mailbox") {
		t.Errorf("report:\n%s", out)
	}
}

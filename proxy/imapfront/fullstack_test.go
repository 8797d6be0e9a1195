package imapfront_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/proxy/imapfront"
	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
	"github.com/oauthbridge/oauthbridge/proxy/listener"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

// stack is the whole login path in one process, with nothing faked: an
// IMAP listener and front end, the login service, the broker with the
// file store, an OAuth IdP over HTTP, and an XOAUTH2-only IMAP server
// that checks every token with that IdP.
type stack struct {
	idp   *testidp.IdP
	imap  *imaptest.Server
	store *filestore.Store
	br    *broker.Broker
	addr  string
	logs  *observer.ObservedLogs
}

func cheapKDF() tokenstore.KDFParams {
	p := tokenstore.DefaultKDF()
	p.MemoryKiB, p.Time, p.Threads = 64, 1, 1
	return p
}

func newStack(t *testing.T) *stack {
	t.Helper()
	idp := testidp.New(t)
	up := imaptest.Start(t, imaptest.Options{Validate: idp.Validate, TLS: upstream.Implicit,
		Users: []string{"alice@example.test", "bob@example.test"}})
	st, err := filestore.Open(filepath.Join(t.TempDir(), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)
	br := broker.New(st, map[string]*broker.Provider{
		"lab": {Name: "lab", OAuth2: idp.Config(""), HTTPClient: idp.Client()}}, log)
	br.KDF = cheapKDF
	svc, err := login.NewService(login.ServiceConfig{
		Rules: []login.Rule{{Match: "*@example.test", Provider: "lab"}},
		Routes: map[string]*login.Route{"lab": {Provider: "lab", Mechanism: "XOAUTH2",
			Endpoints: map[login.Protocol]upstream.Endpoint{login.IMAP: up.Endpoint()}}},
		Store: st, Broker: br, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ls := &listener.Server{Name: "imap", Addr: "127.0.0.1:0", Log: log,
		Handler: &imapfront.Server{Auth: svc, Log: log}}
	if err := ls.Listen(); err != nil {
		t.Fatal(err)
	}
	go ls.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ls.Shutdown(ctx)
	})
	return &stack{idp: idp, imap: up, store: st, br: br, addr: ls.BoundAddr().String(), logs: logs}
}

func (s *stack) authorize(t *testing.T, account, password string) {
	t.Helper()
	if err := s.br.Save(context.Background(), account, "lab", "", []byte(password), s.idp.Issue(account)); err != nil {
		t.Fatal(err)
	}
}

func (s *stack) login(t *testing.T, user, password string, h *imapclient.UnilateralDataHandler) (*imapclient.Client, error) {
	t.Helper()
	c, err := imapclient.DialInsecure(s.addr, &imapclient.Options{UnilateralDataHandler: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, c.Login(user, password).Wait()
}

// A password client reads and writes mail through the whole stack:
// LOGIN, SELECT, APPEND, FETCH, and IDLE that hears about new mail.
func TestFullStackPasswordClientUsesMailbox(t *testing.T) {
	s := newStack(t)
	s.authorize(t, "alice@example.test", "correct horse")

	exists := make(chan uint32, 16)
	idler, err := s.login(t, "Alice@Example.test", "correct horse", &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		}})
	if err != nil {
		t.Fatalf("login through the proxy: %v", err)
	}
	if !idler.Caps().Has(imap.CapIdle) {
		t.Fatalf("client does not see the upstream's capabilities: %v", idler.Caps())
	}
	if _, err := idler.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := idler.Idle()
	if err != nil {
		t.Fatal(err)
	}

	writer, err := s.login(t, "alice@example.test", "correct horse", nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := "From: bob@example.test\r\nSubject: hello\r\n\r\nthrough the bridge\r\n"
	// go-imap's memserver may announce an APPEND that races IDLE's start
	// only with the next change, so append until IDLE hears of one.
	deadline := time.After(10 * time.Second)
	for heard := false; !heard; {
		app := writer.Append("INBOX", int64(len(msg)), nil)
		app.Write([]byte(msg))
		app.Close()
		if _, err := app.Wait(); err != nil {
			t.Fatalf("append: %v", err)
		}
		select {
		case <-exists:
			heard = true
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("IDLE never reported the appended message")
		}
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	bodySection := &imap.FetchItemBodySection{}
	msgs, err := idler.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{bodySection}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch: %v (%d messages)", err, len(msgs))
	}
	if got := string(msgs[0].FindBodySection(bodySection)); got != msg {
		t.Fatalf("fetched %q, want %q", got, msg)
	}
}

// Fifty clients log in at once just after the access token expired: the
// IdP sees exactly one refresh, and every client gets in.
func TestFullStackConcurrentLoginsRefreshOnce(t *testing.T) {
	s := newStack(t)
	s.authorize(t, "alice@example.test", "pw")
	if _, err := s.login(t, "alice@example.test", "pw", nil); err != nil {
		t.Fatal(err)
	}
	s.idp.Expire("alice@example.test")
	// The broker still holds the token in memory; the upstream's refusal
	// of it is what makes the next logins refresh.
	before := s.idp.RefreshRequests()

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := imapclient.DialInsecure(s.addr, nil)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			errs <- c.Login("alice@example.test", "pw").Wait()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("login after expiry: %v", err)
		}
	}
	if n := s.idp.RefreshRequests() - before; n != 1 {
		t.Fatalf("%d refreshes for 50 concurrent logins, want exactly 1", n)
	}
}

// A refresh token the IdP revoked: the client is told, in an ALERT, to
// authorise again; the record is kept and marked; the proxy keeps serving.
func TestFullStackRevokedGrantAlertsForConsent(t *testing.T) {
	s := newStack(t)
	s.authorize(t, "alice@example.test", "pw")
	s.authorize(t, "bob@example.test", "pw2")
	s.idp.Revoke("alice@example.test")

	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	r.ReadString('\n') // greeting
	fmt.Fprintf(conn, "a1 LOGIN alice@example.test pw\r\n")
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "a1 NO [ALERT] ") || !strings.Contains(line, "oauthbridge authorize alice@example.test") {
		t.Fatalf("reply %q, want a NO [ALERT] saying how to authorise", line)
	}
	rec, err := s.store.Get(context.Background(), "alice@example.test")
	if err != nil || rec.Status != tokenstore.StatusNeedsConsent || len(rec.Sealed) == 0 {
		t.Fatalf("record after revocation: %v %+v", err, rec)
	}
	if _, err := s.login(t, "bob@example.test", "pw2", nil); err != nil {
		t.Fatalf("another account stopped working: %v", err)
	}
}

// Nothing logged during logins, failures and refreshes contains the
// password or any token the IdP ever issued.
func TestFullStackLogsHoldNoSecret(t *testing.T) {
	s := newStack(t)
	s.authorize(t, "alice@example.test", "pa55-Secret!")
	if _, err := s.login(t, "alice@example.test", "pa55-Secret!", nil); err != nil {
		t.Fatal(err)
	}
	s.login(t, "alice@example.test", "wrong-Secret?", nil)
	s.idp.Expire("alice@example.test")
	if _, err := s.login(t, "alice@example.test", "pa55-Secret!", nil); err != nil {
		t.Fatal(err)
	}
	s.idp.Revoke("alice@example.test")
	s.idp.Expire("alice@example.test")
	s.login(t, "alice@example.test", "pa55-Secret!", nil)

	entries := s.logs.All()
	if len(entries) < 4 {
		t.Fatalf("only %d log entries; the test would prove nothing", len(entries))
	}
	secrets := append(s.idp.Secrets(), "pa55-Secret!", "wrong-Secret?")
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	for _, e := range entries {
		buf, err := enc.EncodeEntry(e.Entry, e.Context)
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range secrets {
			if sec != "" && strings.Contains(buf.String(), sec) {
				t.Fatalf("a log line leaks a secret: %s", buf.String())
			}
		}
		buf.Free()
	}
}

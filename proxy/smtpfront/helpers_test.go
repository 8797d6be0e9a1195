package smtpfront

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/smtpfront/smtptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// Test identities. The secrets are distinctive so a leak is easy to find.
const (
	testUser     = "alice@example.com"
	testPassword = "s3cret-Passw0rd-XYZZY"
	testToken    = "ya29.TOKEN-must-never-leak-0123456789"
	testHost     = "mx.test"
)

// fakeAuth is an Authenticator with one user; its answers are scripted.
type fakeAuth struct {
	mu sync.Mutex
	// err, when set, is returned for every login.
	err error
	// tokens are handed out in order, one per successful Authenticate;
	// the last one repeats.
	tokens   []string
	endpoint upstream.Endpoint
	mech     string

	calls    int
	requests []login.Request
	rejected []string // tokens reported as refused
}

func (f *fakeAuth) Authenticate(_ context.Context, req login.Request) (*login.Grant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.requests = append(f.requests, req)
	if f.err != nil {
		return nil, f.err
	}
	if req.Username != testUser || req.Password != testPassword {
		return nil, fmt.Errorf("check password: %w", login.ErrBadCredentials)
	}
	tok := testToken
	if len(f.tokens) > 0 {
		tok = f.tokens[min(f.calls-1, len(f.tokens)-1)]
	}
	return &login.Grant{Account: testUser, Provider: "test", UpstreamUser: testUser,
		AccessToken: tok, Mechanism: f.mech, Upstream: f.endpoint}, nil
}

func (f *fakeAuth) Rejected(g *login.Grant) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rejected = append(f.rejected, g.AccessToken)
}

func (f *fakeAuth) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeAuth) request(i int) login.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[i]
}

func (f *fakeAuth) rejectedTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.rejected...)
}

// startUpstream runs an smtptest server that accepts testToken (and any
// token in extra) for testUser.
func startUpstream(t testing.TB, configure func(*smtptest.Server), extra ...string) *smtptest.Server {
	t.Helper()
	up := &smtptest.Server{Validate: func(tok string) (string, bool) {
		if tok == testToken {
			return testUser, true
		}
		for _, e := range extra {
			if tok == e {
				return testUser, true
			}
		}
		return "", false
	}}
	if configure != nil {
		configure(up)
	}
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	return up
}

// harness runs a Server on a loopback listener and records its logs.
type harness struct {
	t    testing.TB
	srv  *Server
	logs *observer.ObservedLogs
	ln   net.Listener
	ctx  context.Context
	stop context.CancelFunc

	accepted chan served // every accepted connection, in order
	seen     []served
	wg       sync.WaitGroup
}

// served is one connection's session and the signal that its handler
// returned.
type served struct {
	s    *proxy.Session
	done chan struct{}
}

func newHarness(t testing.TB, srv *Server) *harness {
	t.Helper()
	if srv.Hostname == "" {
		srv.Hostname = testHost
	}
	if srv.MaxMessageSize == 0 {
		srv.MaxMessageSize = 1000000
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.DebugLevel)
	ctx, stop := context.WithCancel(context.Background())
	h := &harness{t: t, srv: srv, logs: logs, ln: ln, ctx: ctx, stop: stop,
		accepted: make(chan served, 100)}
	srv.Log = zap.New(core)
	h.wg.Add(1)
	go h.accept()
	t.Cleanup(func() {
		stop()
		ln.Close()
		h.wg.Wait()
		h.checkNoSecrets()
	})
	return h
}

func (h *harness) accept() {
	defer h.wg.Done()
	for i := 0; ; i++ {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		sv := served{done: make(chan struct{}), s: &proxy.Session{ID: fmt.Sprint("c", i),
			Listener: "smtp", Remote: c.RemoteAddr(), Started: time.Now()}}
		h.accepted <- sv
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer close(sv.done)
			h.srv.ServeConn(h.ctx, c, sv.s)
			c.Close()
		}()
	}
}

// session returns the i-th accepted session once its handler returned.
func (h *harness) session(i int) *proxy.Session {
	for len(h.seen) <= i {
		h.seen = append(h.seen, <-h.accepted)
	}
	<-h.seen[i].done
	return h.seen[i].s
}

// checkNoSecrets fails the test if a password or token reached a log.
func (h *harness) checkNoSecrets() {
	for _, e := range h.logs.All() {
		line := fmt.Sprint(e.Message, e.ContextMap())
		for _, secret := range []string{testPassword, testToken, b64(testPassword)} {
			if strings.Contains(line, secret) {
				h.t.Errorf("secret in log: %s", line)
			}
		}
	}
}

// client is the test's side of one connection.
type client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func (h *harness) dial() *client {
	h.t.Helper()
	c, err := net.Dial("tcp", h.ln.Addr().String())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return newClient(h.t, c)
}

func newClient(t testing.TB, c net.Conn) *client {
	return &client{t: t, conn: c, r: bufio.NewReader(c)}
}

func (c *client) send(s string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

// expect reads exactly len(want) bytes and compares them.
func (c *client) expect(want string) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(want))
	n, err := io.ReadFull(c.r, got)
	if err != nil || string(got) != want {
		c.t.Fatalf("want %q, got %q (err %v)", want, got[:n], err)
	}
}

// expectCode reads one reply (all its lines) and checks its code.
func (c *client) expectCode(code string) string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var all strings.Builder
	for {
		line, err := c.r.ReadString('\n')
		all.WriteString(line)
		if err != nil || !strings.HasPrefix(line, code) {
			c.t.Fatalf("want a %s reply, got %q (err %v)", code, all.String(), err)
		}
		if len(line) < 4 || line[3] != '-' {
			return all.String()
		}
	}
}

// expectClosed checks the server closed the connection (a reset counts:
// closing with unread input makes the kernel send one).
func (c *client) expectClosed() {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := c.r.ReadByte()
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		c.t.Fatalf("want EOF, got %q %v", b, err)
	}
}

// startTLS upgrades the client connection after a 220.
func (c *client) startTLS(roots *tls.Config) {
	c.t.Helper()
	cfg := roots.Clone()
	cfg.ServerName = "localhost"
	tc := tls.Client(c.conn, cfg)
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("client handshake: %v", err)
	}
	c.conn = tc
	c.r = bufio.NewReader(tc)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// plainIR is the PLAIN initial response for user and password.
func plainIR(user, pass string) string { return b64("\x00" + user + "\x00" + pass) }

// Replies of a fresh test server (Hostname mx.test, SIZE 1000000).
const (
	greeting  = "220 mx.test oauthbridge ESMTP ready\r\n"
	ehloHead  = "250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SIZE 1000000\r\n"
	ehloPlain = ehloHead + "250 AUTH PLAIN LOGIN\r\n"
)

package imapfront

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// ioTimeout bounds every read and write of a test, so that a broken
// dialogue fails the test instead of hanging it.
const ioTimeout = 5 * time.Second

// fakeAuth records requests and answers from a function.
type fakeAuth struct {
	mu       sync.Mutex
	answer   func(n int, req login.Request) (*login.Grant, error)
	reqs     []login.Request
	rejected []*login.Grant
}

func (f *fakeAuth) Authenticate(ctx context.Context, req login.Request) (*login.Grant, error) {
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if f.answer == nil {
		return nil, login.ErrBadCredentials
	}
	return f.answer(n, req)
}

func (f *fakeAuth) Rejected(g *login.Grant) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rejected = append(f.rejected, g)
}

func (f *fakeAuth) requests() []login.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]login.Request(nil), f.reqs...)
}

func (f *fakeAuth) rejections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.rejected)
}

// failWith makes an authenticator that always fails with err.
func failWith(err error) *fakeAuth {
	return &fakeAuth{answer: func(int, login.Request) (*login.Grant, error) { return nil, err }}
}

// grantFor makes an authenticator that hands out a grant for ep, with the
// n-th call's token taken from tokens (the last one repeats).
func grantFor(ep upstream.Endpoint, user string, tokens ...string) *fakeAuth {
	return &fakeAuth{answer: func(n int, req login.Request) (*login.Grant, error) {
		tok := tokens[min(n, len(tokens)-1)]
		return &login.Grant{Account: strings.ToLower(req.Username), Provider: "test", UpstreamUser: user,
			AccessToken: tok, Mechanism: "XOAUTH2", Upstream: ep}, nil
	}}
}

// client is the test's side of one front-end connection over loopback TCP.
type client struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	sess *proxy.Session
	done chan struct{}
	stop context.CancelFunc
}

// dialFront serves one connection with srv and returns the client side.
// wrap, if set, turns the accepted connection into what the listener
// would pass (a TLS server connection for implicit TLS).
func dialFront(t *testing.T, srv *Server, wrap func(net.Conn) net.Conn) *client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		sc = wrap(sc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{t: t, conn: conn, br: bufio.NewReader(conn), done: make(chan struct{}), stop: cancel,
		sess: &proxy.Session{ID: "t1", Listener: "imap", Remote: conn.LocalAddr(), Started: time.Now()}}
	go func() {
		defer close(c.done)
		defer sc.Close()
		srv.ServeConn(ctx, sc, c.sess)
	}()
	t.Cleanup(func() { cancel(); c.conn.Close(); c.wait() })
	return c
}

// wait waits for ServeConn to return.
func (c *client) wait() {
	select {
	case <-c.done:
	case <-time.After(ioTimeout):
		c.t.Error("ServeConn did not return")
	}
}

func (c *client) send(s string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

// expect reads one line per want, each compared with its CRLF.
func (c *client) expect(want ...string) {
	c.t.Helper()
	for _, w := range want {
		c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
		got, err := c.br.ReadString('\n')
		if err != nil {
			c.t.Fatalf("want %q, read error %v (got %q)", w, err, got)
		}
		if got != w+"\r\n" {
			c.t.Fatalf("got  %q\nwant %q", got, w+"\r\n")
		}
	}
}

// expectClosed checks that the server closed the connection. A reset
// counts: closing with unread input makes the kernel send one.
func (c *client) expectClosed() {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	b, err := c.br.ReadString('\n')
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		c.t.Fatalf("want EOF, got %q, %v", b, err)
	}
	// After a relay, the server waits for this side to finish too.
	c.conn.Close()
	c.wait()
}

// startTLS upgrades the client side after the server's OK.
func (c *client) startTLS(cfg *tls.Config) {
	c.t.Helper()
	tc := tls.Client(c.conn, cfg)
	tc.SetDeadline(time.Now().Add(ioTimeout))
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("client handshake: %v", err)
	}
	c.conn, c.br = tc, bufio.NewReader(tc)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// greeting is the greeting of a Server without TLS or hostname.
const greeting = "* OK [CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+ AUTH=PLAIN AUTH=LOGIN] oauthbridge ready"

// badCreds is the reply to a refused password.
const badCreds = " NO [AUTHENTICATIONFAILED] Invalid user name or password"

func timeNowPlus() time.Time { return time.Now().Add(ioTimeout) }

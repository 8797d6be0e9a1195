package pop3front

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/oauthbridge/oauthbridge/internal/testcert"
	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/pop3front/pop3test"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// Test identities. The passwords and tokens are searched for in logs.
const (
	testUser     = "alice@example.com"
	testPassword = "s3cret pass"
	goodToken    = "tok-GOOD-5f2c9a"
	badToken     = "tok-BAD-77d1e0"
)

// fakeAuth is an Authenticator with scripted answers. Users with the
// right password get a grant for the next token in tokens (the last one
// repeats); errs maps a user name to the error to return instead.
type fakeAuth struct {
	mu       sync.Mutex
	upstream upstream.Endpoint
	mech     string
	tokens   []string
	errs     map[string]error
	calls    int
	rejected []string
}

func (a *fakeAuth) Authenticate(ctx context.Context, req login.Request) (*login.Grant, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if req.Protocol != login.POP3 {
		return nil, errors.New("wrong protocol")
	}
	if err := a.errs[req.Username]; err != nil {
		return nil, err
	}
	if req.Username != testUser || req.Password != testPassword {
		return nil, login.ErrBadCredentials
	}
	tok := goodToken
	if len(a.tokens) > 0 {
		tok = a.tokens[min(a.calls, len(a.tokens)-1)]
	}
	a.calls++
	return &login.Grant{
		Account: testUser, Provider: "test", UpstreamUser: testUser,
		AccessToken: tok, Mechanism: a.mech, Upstream: a.upstream,
	}, nil
}

func (a *fakeAuth) Rejected(g *login.Grant) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rejected = append(a.rejected, g.AccessToken)
}

// validate is pop3test's token check: only goodToken, for testUser.
func validate(token string) (string, bool) { return testUser, token == goodToken }

// startPOP3 starts a pop3test server with one small message for testUser.
func startPOP3(t testing.TB, configure func(*pop3test.Server)) *pop3test.Server {
	t.Helper()
	s := &pop3test.Server{Validate: validate}
	if configure != nil {
		configure(s)
	}
	s.AddMessage(testUser, []byte("Hi!\r\n"))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// plainEndpoint points at a clear-text loopback upstream.
func plainEndpoint(addr string) upstream.Endpoint {
	return upstream.Endpoint{Addr: addr, TLS: upstream.Plain}
}

// newLogger returns a logger that records everything, for secret checks.
func newLogger() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return zap.New(core), logs
}

// assertNoSecrets fails if any log entry mentions a password or token.
func assertNoSecrets(t testing.TB, logs *observer.ObservedLogs) {
	t.Helper()
	for _, e := range logs.All() {
		text := e.Message
		for k, v := range e.ContextMap() {
			text += " " + k + "=" + toString(v)
		}
		for _, secret := range []string{testPassword, goodToken, badToken} {
			if strings.Contains(text, secret) {
				t.Errorf("log line leaks a secret: %s", text)
			}
		}
	}
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if e, ok := v.(error); ok {
		return e.Error()
	}
	return ""
}

// step is one line of a transcript: bytes the client sends, then the
// exact bytes it must receive.
type step struct{ send, want string }

// transcript runs srv on one end of a net.Pipe and plays steps on the
// other. Unless keepOpen, it then expects the server to close the
// connection. It returns the session for its recorded outcome.
func transcript(t *testing.T, srv *Server, steps []step, keepOpen bool) *proxy.Session {
	t.Helper()
	client, server := net.Pipe()
	sess := newSession(srv)
	done := serveAsync(srv, server, sess)
	writes := asyncWriter(client)
	for i, s := range steps {
		if s.send != "" {
			writes <- s.send
		}
		if s.want != "" {
			expectBytes(t, client, i, s.want)
		}
	}
	if !keepOpen {
		expectEOF(t, client)
	}
	close(writes)
	client.Close()
	waitDone(t, done)
	return sess
}

func newSession(srv *Server) *proxy.Session {
	return &proxy.Session{ID: "t1", Listener: "pop3", Remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, Log: srv.Log, Started: time.Now()}
}

// serveAsync runs ServeConn and closes conn afterwards, as the listener does.
func serveAsync(srv *Server, conn net.Conn, sess *proxy.Session) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeConn(context.Background(), conn, sess)
		conn.Close()
	}()
	return done
}

// asyncWriter writes queued chunks in order without blocking the reader.
func asyncWriter(c net.Conn) chan<- string {
	ch := make(chan string, 16)
	go func() {
		for s := range ch {
			c.Write([]byte(s))
		}
	}()
	return ch
}

func expectBytes(t *testing.T, c net.Conn, i int, want string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(want))
	n, err := io.ReadFull(c, got)
	if err != nil || string(got) != want {
		t.Fatalf("step %d: got %q (err %v), want %q", i, got[:n], err, want)
	}
}

func expectEOF(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	extra, err := io.ReadAll(c)
	if err != nil || len(extra) > 0 {
		t.Fatalf("want close, got %q (err %v)", extra, err)
	}
}

func waitDone(t testing.TB, done chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ServeConn did not return")
	}
}

// selfSigned returns a server TLS config for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	cfg, pool, err := testcert.ServerConfig("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	return cfg, pool
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// implicitEndpoint is a POP3S upstream trusted through pool (nil: the
// system roots, which do not know the test certificate).
func implicitEndpoint(addr string, pool *x509.CertPool) upstream.Endpoint {
	return upstream.Endpoint{Addr: addr, TLS: upstream.Implicit, TLSConfig: &tls.Config{RootCAs: pool}}
}

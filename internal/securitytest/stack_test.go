package securitytest

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/oauthbridge/oauthbridge/internal/testcert"
	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/imapfront"
	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
	"github.com/oauthbridge/oauthbridge/proxy/listener"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/pop3front"
	"github.com/oauthbridge/oauthbridge/proxy/pop3front/pop3test"
	"github.com/oauthbridge/oauthbridge/proxy/smtpfront"
	"github.com/oauthbridge/oauthbridge/proxy/smtpfront/smtptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

const (
	alice    = "alice@example.test"
	password = "correct-horse-4711"
)

// frontEnd is one protocol as these tests drive it.
type frontEnd struct {
	name  string
	build func(auth login.Authenticator, loginTimeout time.Duration, log *zap.Logger) proxy.Handler
	// login sends one password login and returns the server's final answer
	// to it, without an IMAP tag.
	login func(c *client, user, pass string) string
	// session runs a short session after a successful login and ends it.
	session func(t *testing.T, c *client)
}

// frontEnds lists every front end; each test runs them all.
var frontEnds = []frontEnd{
	{name: "imap", build: buildIMAP, login: imapLogin, session: imapSession},
	{name: "pop3", build: buildPOP3, login: pop3Login, session: pop3Session},
	{name: "smtp", build: buildSMTP, login: smtpLogin, session: smtpSession},
}

func buildIMAP(auth login.Authenticator, lt time.Duration, log *zap.Logger) proxy.Handler {
	return &imapfront.Server{Auth: auth, LoginTimeout: lt, Log: log}
}

func buildPOP3(auth login.Authenticator, lt time.Duration, log *zap.Logger) proxy.Handler {
	return &pop3front.Server{Auth: auth, LoginTimeout: lt, Log: log}
}

func buildSMTP(auth login.Authenticator, lt time.Duration, log *zap.Logger) proxy.Handler {
	return &smtpfront.Server{Auth: auth, LoginTimeout: lt, Hostname: "bridge.test", Log: log}
}

// stack is the whole path in one process: listeners and front ends, the
// login service, broker and file store, an OAuth IdP over HTTP, and an
// OAuth-only upstream server per protocol.
type stack struct {
	idp   *testidp.IdP
	br    *broker.Broker
	svc   *login.Service
	imap  *imaptest.Server
	pop3  *pop3test.Server
	smtp  *smtptest.Server
	logs  *lockedBuffer // every log line, JSON, debug level
	audit *lockedBuffer
	addrs map[string]string
}

// options tune a stack; zero values take the defaults.
type options struct {
	loginTimeout  time.Duration
	preLoginBytes int64
	// imapUpstream replaces the imaptest server as the IMAP upstream.
	imapUpstream *upstream.Endpoint
	// untrusted runs every upstream with implicit TLS under a certificate
	// the proxy has no reason to trust.
	untrusted bool
}

func cheapKDF() tokenstore.KDFParams {
	p := tokenstore.DefaultKDF()
	p.MemoryKiB, p.Time, p.Threads = 64, 1, 1
	return p
}

func newStack(t *testing.T, o options) *stack {
	t.Helper()
	s := &stack{logs: &lockedBuffer{}, audit: &lockedBuffer{}, addrs: map[string]string{}}
	log := jsonLogger(s.logs)
	s.idp = testidp.New(t)
	eps := s.startUpstreams(t, o.untrusted)
	st, err := filestore.Open(filepath.Join(t.TempDir(), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s.br = broker.New(st, map[string]*broker.Provider{
		"lab": {Name: "lab", OAuth2: s.idp.Config(""), HTTPClient: s.idp.Client()}}, log)
	s.br.KDF = cheapKDF
	if o.imapUpstream != nil {
		eps[login.IMAP] = *o.imapUpstream
	}
	s.svc, err = login.NewService(login.ServiceConfig{
		Rules: []login.Rule{{Match: "*@example.test", Provider: "lab"}},
		Routes: map[string]*login.Route{"lab": {Provider: "lab", Mechanism: "XOAUTH2",
			Endpoints: eps}},
		Store: st, Broker: s.br, Log: log, KDF: cheapKDF, Audit: login.NewAuditLogger(s.audit),
		Throttle: login.ThrottleConfig{Free: 1000},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, fe := range frontEnds {
		s.addrs[fe.name] = s.listen(t, fe, o, log)
	}
	return s
}

// startUpstreams starts an OAuth-only server per protocol and returns how
// to reach them: in plain text on loopback, or with implicit TLS and no
// trust in the servers' certificates (untrusted).
func (s *stack) startUpstreams(t *testing.T, untrusted bool) map[login.Protocol]upstream.Endpoint {
	mode := upstream.Plain
	if untrusted {
		mode = upstream.Implicit
	}
	s.imap = imaptest.Start(t, imaptest.Options{Validate: s.idp.Validate, TLS: mode, Users: []string{alice}})
	s.pop3 = &pop3test.Server{Validate: s.idp.Validate, Implicit: untrusted}
	if untrusted {
		cfg, _, err := testcert.ServerConfig(testcert.Loopback...)
		if err != nil {
			t.Fatal(err)
		}
		s.pop3.TLSConfig = cfg
	}
	s.pop3.AddMessage(alice, []byte("Subject: hi\r\n\r\nhello\r\n"))
	s.smtp = &smtptest.Server{Validate: s.idp.Validate, TLS: mode}
	for _, start := range []func() error{s.pop3.Start, s.smtp.Start} {
		if err := start(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { s.pop3.Close(); s.smtp.Close() })
	eps := map[login.Protocol]upstream.Endpoint{login.IMAP: s.imap.Endpoint(),
		login.POP3: {Addr: s.pop3.Addr(), TLS: mode}, login.SMTP: s.smtp.Endpoint()}
	if untrusted {
		for p, ep := range eps {
			eps[p] = upstream.Endpoint{Addr: ep.Addr, TLS: ep.TLS} // system roots only
		}
	}
	return eps
}

// listen starts fe behind a listener with the production limits.
func (s *stack) listen(t *testing.T, fe frontEnd, o options, log *zap.Logger) string {
	t.Helper()
	ls := &listener.Server{Name: fe.name, Addr: "127.0.0.1:0", Log: log,
		Handler: fe.build(s.svc, o.loginTimeout, log), Limiter: listener.NewLimiter(64),
		Sources: listener.NewSourceLimiter(32), PreLoginBytes: o.preLoginBytes}
	if err := ls.Listen(); err != nil {
		t.Fatal(err)
	}
	go ls.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ls.Shutdown(ctx)
	})
	return ls.BoundAddr().String()
}

// authorize stores a grant for account under password.
func (s *stack) authorize(t *testing.T, account, pass string) {
	t.Helper()
	if err := s.br.Save(context.Background(), account, "lab", "", []byte(pass), s.idp.Issue(account)); err != nil {
		t.Fatal(err)
	}
}

func (s *stack) dial(t *testing.T, fe frontEnd) *client {
	t.Helper()
	c, err := net.Dial("tcp", s.addrs[fe.name])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return newClient(t, c)
}

func jsonLogger(w *lockedBuffer) *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), zapcore.DebugLevel))
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

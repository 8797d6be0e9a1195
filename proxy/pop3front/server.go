package pop3front

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/lineio"
	"github.com/oauthbridge/oauthbridge/proxy/login"
)

// Defaults for the zero values of Server's limits.
const (
	// DefaultMaxLine is well above RFC 2449's 255 octets, because clients
	// send long AUTH initial responses and answers to challenges anyway.
	DefaultMaxLine = 2048
	// DefaultMaxCommands leaves room for a client that tries three login
	// forms (Thunderbird does) with CAPA and STLS around them.
	DefaultMaxCommands = 32
	// DefaultLoginTimeout is the time from connect to login. Clients may
	// open the connection before asking the user for the password.
	DefaultLoginTimeout = 3 * time.Minute
	// DefaultUpstreamTimeout bounds one login attempt: the Authenticator
	// (which may refresh a token at the identity provider) plus the
	// upstream login.
	DefaultUpstreamTimeout = time.Minute
)

// writeTimeout bounds each reply to a client that stopped reading. Reads
// are bounded by the login deadline instead, so a slow login attempt
// cannot leave too little time to send its answer.
const writeTimeout = 30 * time.Second

// Server is the POP3 front end. It implements proxy.Handler; one Server
// serves any number of connections concurrently and is not modified by
// them.
type Server struct {
	// Auth checks the local password and returns the upstream grant.
	Auth login.Authenticator
	// TLSConfig holds the proxy's certificate. nil: STLS is not offered
	// (and Implicit cannot work).
	TLSConfig *tls.Config
	// Implicit starts TLS on the first byte (POP3S, port 995). A conn that
	// the listener already wrapped in TLS is used as it is.
	Implicit bool
	// RequireTLS refuses USER, PASS and AUTH on an unencrypted connection
	// (with a reply that says to use STLS) and leaves USER and SASL out of
	// CAPA there, so passwords never cross the network in clear.
	RequireTLS bool

	// MaxLine bounds a command line, or a SASL response line, before
	// login, without its CRLF. Zero means DefaultMaxLine.
	MaxLine int
	// MaxCommands bounds the command lines accepted before login. Zero
	// means DefaultMaxCommands.
	MaxCommands int
	// LoginTimeout bounds the time from connect to login. Zero means
	// DefaultLoginTimeout.
	LoginTimeout time.Duration
	// UpstreamTimeout bounds one login attempt (Authenticator and upstream
	// login together). Zero means DefaultUpstreamTimeout.
	UpstreamTimeout time.Duration
	// IRStyle says how AUTH carries the credentials upstream; see IRStyle.
	// It applies to every upstream this front end logs in to.
	IRStyle IRStyle

	// Hint, when set and returning non-empty text, has that text appended
	// to the "+OK" answer to USER.
	//
	// Why a hook on USER: Thunderbird shows a POP3 server's text to the
	// user only for "-ERR" in answer to USER; after PASS it shows a
	// generic "login failed". The consent link is therefore always sent
	// as "-ERR [AUTH] <message>" after PASS (so that the password that
	// starts consent reaches the proxy), and USER can say nothing certain
	// because it has no password yet. A deployment that knows something
	// about a user name alone (say, "this domain moved to OAuth; see
	// https://...") can say it here. Hint must return the same text for
	// existing and unknown names, or USER becomes an account-existence
	// oracle; the text is sanitised to one line.
	Hint func(username string) string

	// Log is used when the proxy.Session carries no logger; nil discards.
	Log *zap.Logger
	// Observer, when set, hears how each login ends (metrics).
	Observer proxy.LoginObserver
}

var _ proxy.Handler = (*Server)(nil)

// ServeConn runs one client connection until login fails for good, the
// client quits, or the relay after login ends. The caller closes conn.
func (srv *Server) ServeConn(ctx context.Context, conn net.Conn, s *proxy.Session) {
	c := srv.newSession(ctx, conn, s)
	// The raw conn, not c.conn: STLS replaces c.conn, and a deadline on the
	// raw conn stops a TLS conn over it as well.
	c.unwatch = context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer c.unwatch()
	if srv.Implicit && !c.startImplicitTLS() {
		return
	}
	c.serve()
}

// newSession sets up the per-connection state and the pre-login deadline.
func (srv *Server) newSession(ctx context.Context, conn net.Conn, s *proxy.Session) *session {
	log := s.Log
	if log == nil {
		log = srv.Log
	}
	if log == nil {
		log = zap.NewNop()
	}
	c := &session{srv: srv, ps: s, log: log, ctx: ctx, conn: conn}
	if _, ok := conn.(*tls.Conn); ok {
		s.TLS = true
	}
	c.setReader(conn)
	c.deadline = time.Now().Add(orDuration(srv.LoginTimeout, DefaultLoginTimeout))
	conn.SetReadDeadline(c.deadline)
	return c
}

// setReader (re)builds the buffered line reader over r; the buffer holds a
// whole line plus its CRLF.
func (c *session) setReader(r net.Conn) {
	max := c.srv.maxLine()
	c.br = bufio.NewReaderSize(r, max+2)
	c.lr = lineio.New(c.br, max)
}

func (srv *Server) maxLine() int {
	if srv.MaxLine > 0 {
		return srv.MaxLine
	}
	return DefaultMaxLine
}

func (srv *Server) maxCommands() int {
	if srv.MaxCommands > 0 {
		return srv.MaxCommands
	}
	return DefaultMaxCommands
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

package imapfront

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

// Defaults for the Server's limits, used when a field is zero.
const (
	DefaultMaxLine         = 8 * 1024
	DefaultMaxLiteral      = 8 * 1024
	DefaultMaxCommands     = 20
	DefaultLoginTimeout    = 60 * time.Second
	DefaultAuthTimeout     = 30 * time.Second
	DefaultUpstreamTimeout = 30 * time.Second
	// maxLiterals bounds the literals in one command: LOGIN needs two.
	maxLiterals = 4
	// writeTimeout bounds each reply to a client that stopped reading.
	writeTimeout = 15 * time.Second
)

// Server is the IMAP front end's configuration. It implements
// proxy.Handler; one Server serves any number of connections at once and
// must not be changed while it does.
type Server struct {
	// Auth checks the local password and provides the access token.
	Auth login.Authenticator
	// TLSConfig holds the server certificate for STARTTLS; nil means
	// STARTTLS is not offered.
	TLSConfig *tls.Config
	// Implicit says the listener already speaks TLS (port 993), so
	// STARTTLS is not offered.
	Implicit bool
	// RequireTLS refuses LOGIN and AUTHENTICATE on a connection that is not
	// encrypted (LOGINDISABLED, NO [PRIVACYREQUIRED]). With neither
	// TLSConfig nor Implicit set, nobody can log in.
	RequireTLS bool
	// Hostname, when set, opens the greeting text.
	Hostname string

	// MaxLine bounds a command line, without its CRLF.
	MaxLine int
	// MaxLiteral bounds one literal in a command.
	MaxLiteral int
	// MaxCommands bounds the commands a client may send before login.
	MaxCommands int
	// LoginTimeout bounds the whole not-authenticated phase, counted from
	// accept, for the time spent waiting on the client.
	LoginTimeout time.Duration
	// AuthTimeout bounds each call to Auth.Authenticate.
	AuthTimeout time.Duration
	// UpstreamTimeout bounds each upstream login, dial included.
	UpstreamTimeout time.Duration

	// Log is used when the Session carries no logger; nil logs nothing.
	Log *zap.Logger
	// Observer, when set, hears how each login ends (metrics).
	Observer proxy.LoginObserver
}

var _ proxy.Handler = (*Server)(nil)

// ServeConn runs the not-authenticated dialogue on conn and, once a login
// succeeds, relays it to the upstream until either side closes.
func (srv *Server) ServeConn(ctx context.Context, conn net.Conn, s *proxy.Session) {
	c := srv.newConn(ctx, conn, s)
	stop := context.AfterFunc(ctx, func() {
		// Wakes a blocked read so that the loop can say goodbye.
		conn.SetReadDeadline(time.Unix(1, 0))
	})
	defer stop()
	c.stopWatch = stop
	c.serve()
}

func (srv *Server) newConn(ctx context.Context, nc net.Conn, s *proxy.Session) *conn {
	log := s.Log
	if log == nil {
		log = srv.Log
	}
	if log == nil {
		log = zap.NewNop()
	}
	_, isTLS := nc.(*tls.Conn)
	c := &conn{srv: srv, s: s, ctx: ctx, nc: nc, log: log, tls: isTLS || srv.Implicit}
	c.setReader(nc)
	s.TLS = c.tls
	c.deadline = time.Now().Add(orDuration(srv.LoginTimeout, DefaultLoginTimeout))
	nc.SetReadDeadline(c.deadline)
	return c
}

// setReader (re)creates the buffered reader over nc, after accept and
// after STARTTLS.
func (c *conn) setReader(nc net.Conn) {
	max := c.srv.maxLine()
	c.br = bufio.NewReaderSize(nc, max+2)
	c.lines = lineio.New(c.br, max)
}

func (srv *Server) maxLine() int     { return orInt(srv.MaxLine, DefaultMaxLine) }
func (srv *Server) maxLiteral() int  { return orInt(srv.MaxLiteral, DefaultMaxLiteral) }
func (srv *Server) maxCommands() int { return orInt(srv.MaxCommands, DefaultMaxCommands) }

// startTLSOffered says whether STARTTLS is available on c now.
func (srv *Server) startTLSOffered(c *conn) bool {
	return srv.TLSConfig != nil && !c.tls
}

// loginAllowed applies the RequireTLS policy.
func (srv *Server) loginAllowed(c *conn) bool {
	return !srv.RequireTLS || c.tls
}

func orInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func orDuration(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

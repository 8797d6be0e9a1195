package smtpfront

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/login"
)

// Defaults for the Server's zero-valued limits.
const (
	// DefaultMaxLine leaves room for AUTH PLAIN with a long password on one
	// line; RFC 4954 lets AUTH lines exceed the 512 octets of RFC 5321.
	DefaultMaxLine = 4096
	// MinMaxLine is the smallest MaxLine honoured: RFC 5321 text lines are
	// up to 1000 octets, and clients do not expect less.
	MinMaxLine = 1000
	// DefaultMaxCommands is generous for any real client (EHLO, STARTTLS,
	// EHLO, a few AUTH attempts) and small for a scanner.
	DefaultMaxCommands = 50
	// DefaultLoginTimeout bounds the time from connect to a successful AUTH.
	DefaultLoginTimeout = 2 * time.Minute
	// DefaultUpstreamTimeout bounds one login attempt: Authenticate (KDF,
	// token refresh) plus the upstream dialogue.
	DefaultUpstreamTimeout = 45 * time.Second
	// DefaultMaxMessageSize is advertised as SIZE until an upstream's own
	// limit is known; it matches the big providers' order of magnitude.
	DefaultMaxMessageSize = 35 << 20
)

// writeTimeout bounds every reply written to the client before login.
const writeTimeout = 30 * time.Second

// Server is the SMTP submission front end; it implements proxy.Handler.
// The zero value of each limit selects its default.
type Server struct {
	// Auth turns the client's user name and password into a grant.
	Auth login.Authenticator
	// TLSConfig is the server certificate. nil: no STARTTLS offered (and
	// Implicit cannot work).
	TLSConfig *tls.Config
	// Implicit starts TLS on the first byte (port 465, RFC 8314).
	Implicit bool
	// RequireTLS refuses AUTH, and hides it from EHLO, until TLS is active.
	RequireTLS bool

	// Hostname is the name in the greeting and EHLO reply; default the
	// machine's host name.
	Hostname string
	// MaxLine bounds one line before login, without CRLF.
	MaxLine int
	// MaxCommands bounds the commands accepted before login.
	MaxCommands int
	// LoginTimeout bounds the time from connect to login.
	LoginTimeout time.Duration
	// UpstreamTimeout bounds one login attempt (authenticator + upstream).
	UpstreamTimeout time.Duration
	// MaxMessageSize is advertised as SIZE while no upstream's SIZE is
	// known.
	MaxMessageSize int64

	// Log is used when the Session carries no logger.
	Log *zap.Logger
	// Observer, when set, hears how each login ends (metrics).
	Observer proxy.LoginObserver

	caps capsCache
}

var _ proxy.Handler = (*Server)(nil)

// ServeConn runs one client connection: the pre-login dialogue, then the
// relay. It returns when the client is gone; the caller closes conn.
func (srv *Server) ServeConn(ctx context.Context, conn net.Conn, s *proxy.Session) {
	c := srv.newConn(ctx, conn, s)
	stop := context.AfterFunc(ctx, c.interrupt)
	defer stop()
	if srv.Implicit && !c.implicitTLS() {
		return
	}
	up := c.preauth()
	if up == nil {
		return
	}
	if !stop() {
		up.conn.Close()
		return
	}
	c.relay(up)
}

// relay hands both connections to proxy.Relay. Whatever the client
// pipelined after AUTH is still in c.br and is relayed first.
func (c *conn) relay(up *upConn) {
	c.nc.SetDeadline(time.Time{})
	up.conn.SetDeadline(time.Time{})
	err := proxy.Relay(c.ctx, c.sess,
		proxy.Peer{Conn: c.nc, Reader: c.br},
		proxy.Peer{Conn: up.conn, Reader: up.r})
	if err != nil {
		c.log.Debug("relay ended", zap.Error(err))
	}
}

func (srv *Server) hostname() string {
	if srv.Hostname != "" {
		return srv.Hostname
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

func (srv *Server) maxLine() int {
	switch {
	case srv.MaxLine <= 0:
		return DefaultMaxLine
	case srv.MaxLine < MinMaxLine:
		return MinMaxLine
	}
	return srv.MaxLine
}

func (srv *Server) maxCommands() int {
	if srv.MaxCommands > 0 {
		return srv.MaxCommands
	}
	return DefaultMaxCommands
}

func (srv *Server) loginTimeout() time.Duration {
	if srv.LoginTimeout > 0 {
		return srv.LoginTimeout
	}
	return DefaultLoginTimeout
}

func (srv *Server) upstreamTimeout() time.Duration {
	if srv.UpstreamTimeout > 0 {
		return srv.UpstreamTimeout
	}
	return DefaultUpstreamTimeout
}

// advertisedSize is the SIZE for EHLO: the smallest limit of the
// upstreams seen so far (the client may end up on any of them), else the
// configured one.
func (srv *Server) advertisedSize() int64 {
	if n := srv.caps.size(); n > 0 {
		return n
	}
	if srv.MaxMessageSize > 0 {
		return srv.MaxMessageSize
	}
	return DefaultMaxMessageSize
}

func (srv *Server) logger(s *proxy.Session) *zap.Logger {
	if s.Log != nil {
		return s.Log
	}
	if srv.Log != nil {
		return srv.Log.With(zap.String("conn", s.ID))
	}
	return zap.NewNop()
}

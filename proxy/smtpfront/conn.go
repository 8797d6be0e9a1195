package smtpfront

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/lineio"
)

// conn is one client connection before login.
type conn struct {
	srv  *Server
	ctx  context.Context
	sess *proxy.Session
	log  *zap.Logger

	raw   net.Conn // as accepted; deadlines set here reach a TLS layer too
	nc    net.Conn // current transport: raw, or TLS on top of it
	br    *bufio.Reader
	lines *lineio.Reader

	deadline time.Time // end of the pre-login time budget
	helo     string    // the client's EHLO/HELO name, "" until greeted
	ehlo     bool      // greeted with EHLO, so extensions (AUTH) may be used
	commands int
	werr     error // first write error; the connection is then dead
	up       *upConn
}

// step says how the dialogue continues after a command.
type step int

const (
	stepNext  step = iota // read the next command
	stepClose             // end the connection
	stepRelay             // login done: c.up is ready
)

func (srv *Server) newConn(ctx context.Context, nc net.Conn, s *proxy.Session) *conn {
	c := &conn{
		srv: srv, ctx: ctx, sess: s, log: srv.logger(s),
		raw: nc, deadline: time.Now().Add(srv.loginTimeout()),
	}
	c.setTransport(nc)
	nc.SetReadDeadline(c.deadline)
	return c
}

// setTransport (re)builds the buffered reader over nc, dropping whatever
// the old one held.
func (c *conn) setTransport(nc net.Conn) {
	c.nc = nc
	c.br = bufio.NewReaderSize(nc, c.srv.maxLine()+2)
	c.lines = lineio.New(c.br, c.srv.maxLine())
}

// interrupt runs when the server shuts down: it wakes a blocked read.
func (c *conn) interrupt() {
	c.raw.SetReadDeadline(time.Unix(1, 0))
}

// implicitTLS runs the server handshake on a port with TLS from the start.
func (c *conn) implicitTLS() bool {
	if c.srv.TLSConfig == nil {
		c.log.Error("implicit TLS listener without a certificate")
		c.sess.Result = "protocol_error"
		return false
	}
	return c.handshake()
}

// handshake turns the transport into TLS within the login time budget.
func (c *conn) handshake() bool {
	tc := tls.Server(c.nc, c.srv.TLSConfig)
	ctx, cancel := context.WithDeadline(c.ctx, c.deadline)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.log.Info("client TLS handshake failed", zap.Error(err))
		c.sess.Result = "protocol_error"
		return false
	}
	c.setTransport(tc)
	c.sess.TLS = true
	return true
}

// preauth runs the dialogue up to a successful login and returns the
// logged-in upstream, or nil when the connection is to be closed.
func (c *conn) preauth() *upConn {
	c.send("220 " + c.srv.hostname() + " oauthbridge ESMTP ready\r\n")
	for c.werr == nil {
		line, ok := c.readCommand()
		if !ok {
			return nil
		}
		switch c.dispatch(line) {
		case stepClose:
			return nil
		case stepRelay:
			return c.up
		}
	}
	return nil
}

// readCommand reads the next command line and enforces the line, command
// and time limits, answering (and closing) when one is exceeded.
func (c *conn) readCommand() (string, bool) {
	for {
		line, err := c.readLine()
		if err != nil && !errors.Is(err, lineio.ErrTooLong) {
			c.readFailed(err)
			return "", false
		}
		c.commands++
		if c.commands > c.srv.maxCommands() {
			c.send("421 4.7.0 " + c.srv.hostname() + " Too many commands, closing connection\r\n")
			c.sess.Result = "too_many_commands"
			return "", false
		}
		if err == nil {
			return line, true
		}
		if !c.tooLong(err, "500 5.5.2 Line too long\r\n") {
			return "", false
		}
	}
}

// readLine returns one line, or an error once the server is shutting down.
func (c *conn) readLine() (string, error) {
	if err := c.ctx.Err(); err != nil {
		return "", err
	}
	b, err := c.lines.ReadLine()
	if err != nil {
		if c.ctx.Err() != nil {
			return "", c.ctx.Err()
		}
		return "", err
	}
	return string(b), nil
}

// tooLong answers an over-long line; it reports whether the connection can
// go on (the line was skipped) or must close (too much to skip).
func (c *conn) tooLong(err error, reply string) bool {
	c.send(reply)
	if errors.Is(err, lineio.ErrDrop) {
		c.sess.Result = "protocol_error"
		return false
	}
	return c.werr == nil
}

// readFailed ends the connection after a failed read with the reply the
// cause deserves.
func (c *conn) readFailed(err error) {
	var ne net.Error
	switch {
	case c.ctx.Err() != nil:
		c.send("421 4.3.2 " + c.srv.hostname() + " Service shutting down, closing connection\r\n")
		c.sess.Result = "shutdown"
	case errors.As(err, &ne) && ne.Timeout():
		c.send("421 4.4.2 " + c.srv.hostname() + " Login timeout, closing connection\r\n")
		c.sess.Result = "timeout"
	default:
		// A client that hangs up after a failed login keeps that result.
		c.log.Debug("client read failed", zap.Error(err))
		if c.sess.Result == "" {
			c.sess.Result = "closed"
		}
	}
}

// send writes one complete reply (CRLF included). A failed write marks the
// connection dead; callers check c.werr where it matters.
func (c *conn) send(s string) {
	if c.werr != nil {
		return
	}
	c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := c.nc.Write([]byte(s)); err != nil {
		c.werr = err
		c.log.Debug("client write failed", zap.Error(err))
		if c.sess.Result == "" {
			c.sess.Result = "closed"
		}
	}
}

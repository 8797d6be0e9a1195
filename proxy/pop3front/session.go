package pop3front

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/lineio"
)

// Results recorded in proxy.Session.Result besides the login outcomes of
// loginResult. A login outcome, once recorded, is kept when the
// connection later ends for another reason, so the summary line says how
// the last login went.
const (
	resultQuit          = "quit"
	resultClosed        = "closed" // the client went away without QUIT
	resultProtocolError = "protocol_error"
	resultTimeout       = "timeout"
	resultTooMany       = "too_many_commands"
	resultShutdown      = "shutdown"
)

// session is one client connection before login.
type session struct {
	srv  *Server
	ps   *proxy.Session
	log  *zap.Logger
	ctx  context.Context
	conn net.Conn
	br   *bufio.Reader
	lr   *lineio.Reader

	deadline time.Time   // end of the pre-login time
	unwatch  func() bool // stops the shutdown watcher before the relay
	commands int         // command lines read so far
	user     string      // argument of the last USER, awaiting PASS
	haveUser bool
}

// handler runs one command; it returns false when the connection is done
// (closed by QUIT or an error, or handed to the relay).
type handler func(c *session, cmd command) bool

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"CAPA": (*session).cmdCapa,
		"USER": (*session).cmdUser,
		"PASS": (*session).cmdPass,
		"AUTH": (*session).cmdAuth,
		"STLS": (*session).cmdStls,
		"QUIT": (*session).cmdQuit,
		"APOP": (*session).cmdApop,
	}
}

// serve sends the greeting and runs commands until one ends the session.
func (c *session) serve() {
	if !c.reply(replyGreeting) {
		return
	}
	for c.next() {
	}
}

// next reads and runs one command line.
func (c *session) next() bool {
	line, err := c.lr.ReadLine()
	if err != nil {
		return c.readFailed(err)
	}
	c.commands++
	if c.commands > c.srv.maxCommands() {
		c.end(resultTooMany)
		c.reply(replyTooMany)
		return false
	}
	cmd, err := parseCommand(line)
	if err != nil {
		return c.reply(replyForParseError(err))
	}
	if h, ok := handlers[cmd.Verb]; ok {
		return h(c, cmd)
	}
	if transactionVerbs[cmd.Verb] {
		return c.reply(replyNotLoggedIn)
	}
	return c.reply(replyUnknown)
}

// readFailed answers a failed line read and says whether to go on.
func (c *session) readFailed(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, lineio.ErrDrop):
		c.end(resultProtocolError)
		c.reply(replyLineTooLongBye)
		return false
	case errors.Is(err, lineio.ErrTooLong):
		c.commands++
		return c.reply(replyLineTooLong)
	case c.ctx.Err() != nil:
		c.end(resultShutdown)
	case errors.As(err, &ne) && ne.Timeout():
		c.end(resultTimeout)
		c.reply(replyTimeout)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		c.end(resultClosed)
	default:
		c.end(resultProtocolError)
		c.log.Debug("read failed", zap.Error(err))
	}
	return false
}

// end records why the connection ends unless a login outcome is known.
func (c *session) end(result string) {
	if c.ps.Result == "" {
		c.ps.Result = result
	}
}

// reply writes one complete response (CRLF included) and reports success.
func (c *session) reply(r string) bool {
	c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := io.WriteString(c.conn, r); err != nil {
		c.end(resultProtocolError)
		c.log.Debug("write failed", zap.Error(err))
		return false
	}
	return true
}

func (c *session) cmdQuit(command) bool {
	c.end(resultQuit)
	c.reply(replyBye)
	return false
}

func (c *session) cmdApop(command) bool { return c.reply(replyNoApop) }

// loginAllowed reports whether credentials may be sent on this connection.
func (c *session) loginAllowed() bool { return !c.srv.RequireTLS || c.ps.TLS }

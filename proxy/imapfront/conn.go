package imapfront

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/lineio"
)

// conn is one client connection in the not-authenticated state.
type conn struct {
	srv      *Server
	s        *proxy.Session
	ctx      context.Context
	nc       net.Conn // the client connection, TLS after STARTTLS
	br       *bufio.Reader
	lines    *lineio.Reader
	log      *zap.Logger
	tls      bool
	deadline time.Time // end of the not-authenticated phase
	commands int
	// stopWatch stops the shutdown watcher before relaying, which has
	// its own.
	stopWatch func() bool
}

// next is what the command loop does after a command.
type next int

const (
	proceed next = iota
	hangUp
)

// serve greets the client and runs commands until login succeeds (and the
// relay ends), the client leaves, or a limit is hit.
func (c *conn) serve() {
	if c.send("* OK [CAPABILITY "+c.capabilities()+"] "+c.greetingText()) != nil {
		c.setResult("closed")
		return
	}
	for {
		raw, err := c.readCommand()
		if err == nil {
			err = c.count()
		}
		if err != nil {
			if c.readFailed(err) == hangUp {
				return
			}
			continue
		}
		if c.handle(raw) == hangUp {
			return
		}
	}
}

func (c *conn) greetingText() string {
	if c.srv.Hostname != "" {
		return c.srv.Hostname + " oauthbridge ready"
	}
	return "oauthbridge ready"
}

// errTooManyCommands ends a connection that keeps talking without logging in.
var errTooManyCommands = errors.New("too many commands before login")

func (c *conn) count() error {
	c.commands++
	if c.commands > c.srv.maxCommands() {
		return errTooManyCommands
	}
	return nil
}

// handle parses and runs one command.
func (c *conn) handle(raw []byte) next {
	cmd, err := Parse(raw)
	if err != nil {
		return c.bad(cmd.Tag, "", sentenceCase(err.Error()))
	}
	c.log.Debug("imap command", zap.String("command", cmd.Name))
	return c.dispatch(cmd)
}

// readFailed answers a failed read and says whether the connection can go
// on.
func (c *conn) readFailed(err error) next {
	var re *readError
	switch {
	case errors.As(err, &re):
		return c.answerReadError(re)
	case errors.Is(err, errTooManyCommands):
		c.bye("too_many_commands", "Too many commands before login")
	case errors.Is(err, lineio.ErrDrop):
		c.bye("protocol_error", "Line too long")
	case errors.Is(err, lineio.ErrTooLong):
		// Counted like a command: otherwise a client could send over-long
		// lines until the login timeout.
		if c.count() != nil {
			c.bye("too_many_commands", "Too many commands before login")
			return hangUp
		}
		c.setResult("protocol_error")
		return c.reply("* BAD [TOOBIG] Line too long")
	case c.ctx.Err() != nil:
		c.bye("shutdown", "Server shutting down")
	case isTimeout(err):
		c.bye("timeout", "Autologout; login timeout")
	default:
		c.log.Debug("client read failed", zap.Error(err))
		c.setResult("closed")
	}
	return hangUp
}

// answerReadError answers a command the reader had to refuse.
func (c *conn) answerReadError(re *readError) next {
	c.setResult("protocol_error")
	tag := re.tag
	if tag == "" {
		tag = "*"
	}
	if c.reply(tag+" BAD "+re.text) == hangUp {
		return hangUp
	}
	if !re.drop {
		return proceed
	}
	c.bye("protocol_error", "Cannot continue after that")
	return hangUp
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (c *conn) setResult(r string) {
	// A client that leaves after a failed login keeps the failure as the
	// connection's result: that is what an operator wants to see.
	if r == "closed" && c.s.Result != "" {
		return
	}
	c.s.Result = r
}

// send writes lines, each terminated by CRLF, in one write.
func (c *conn) send(lines ...string) error {
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString(l)
		sb.WriteString("\r\n")
	}
	c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := io.WriteString(c.nc, sb.String())
	if err != nil {
		c.log.Debug("client write failed", zap.Error(err))
	}
	return err
}

// reply sends lines and turns a write failure into hangUp.
func (c *conn) reply(lines ...string) next {
	if c.send(lines...) != nil {
		c.setResult("closed")
		return hangUp
	}
	return proceed
}

// bad answers a command that could not be understood.
func (c *conn) bad(tag, code, text string) next {
	if tag == "" {
		tag = "*"
	}
	if code != "" {
		text = "[" + code + "] " + text
	}
	return c.reply(tag + " BAD " + text)
}

// bye says goodbye before the connection is closed.
func (c *conn) bye(result, text string) {
	c.setResult(result)
	c.send("* BYE " + text)
}

func sentenceCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

package pop3test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/lineio"
)

// maxLine bounds a command line; XOAUTH2 initial responses with real
// tokens run to a few KiB.
const maxLine = 64 * 1024

// conn is one client session.
type conn struct {
	srv  *Server
	c    net.Conn
	lr   *lineio.Reader
	w    *bufio.Writer
	tls  bool
	user string    // set after login
	drop *maildrop // set after login
}

func newConn(s *Server, c net.Conn) *conn {
	cn := &conn{srv: s, tls: s.Implicit}
	cn.setConn(c)
	return cn
}

func (c *conn) setConn(nc net.Conn) {
	c.c = nc
	c.lr = lineio.New(bufio.NewReaderSize(nc, maxLine+2), maxLine)
	c.w = bufio.NewWriter(nc)
}

// run greets and serves commands until QUIT or an error.
func (c *conn) run() {
	c.send("+OK pop3test ready")
	for {
		line, err := c.readLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		if !c.dispatch(strings.ToUpper(verb), arg) {
			return
		}
	}
}

func (c *conn) readLine() (string, error) {
	c.c.SetReadDeadline(time.Now().Add(IdleTimeout))
	line, err := c.lr.ReadLine()
	return string(line), err
}

// send writes one reply line.
func (c *conn) send(format string, args ...any) bool {
	c.c.SetWriteDeadline(time.Now().Add(IdleTimeout))
	fmt.Fprintf(c.w, format+"\r\n", args...)
	return c.w.Flush() == nil
}

// dispatch runs one command; false ends the session.
func (c *conn) dispatch(verb, arg string) bool {
	switch verb {
	case "QUIT":
		return c.quit()
	case "CAPA":
		return c.capa()
	}
	if c.user == "" {
		return c.preauth(verb, arg)
	}
	return c.transaction(verb, arg)
}

func (c *conn) preauth(verb, arg string) bool {
	switch verb {
	case "STLS":
		return c.stls()
	case "AUTH":
		return c.auth(strings.Fields(arg))
	case "USER", "PASS", "APOP":
		return c.send("-ERR [AUTH] Plaintext authentication is disabled; use AUTH XOAUTH2")
	}
	return c.send("-ERR Unknown command or not authenticated")
}

func (c *conn) quit() bool {
	if c.drop != nil {
		c.srv.commit(c.user, c.drop)
	}
	c.send("+OK Bye")
	return false
}

func (c *conn) capa() bool {
	caps := []string{"+OK Capability list follows", "SASL " + strings.Join(c.mechanisms(), " ")}
	if c.srv.TLSConfig != nil && !c.tls {
		caps = append(caps, "STLS")
	}
	caps = append(caps, "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "UIDL", ".")
	return c.send("%s", strings.Join(caps, "\r\n"))
}

func (c *conn) mechanisms() []string {
	if c.srv.OAuthBearer {
		return []string{"XOAUTH2", "OAUTHBEARER"}
	}
	return []string{"XOAUTH2"}
}

func (c *conn) stls() bool {
	if c.srv.TLSConfig == nil || c.tls {
		return c.send("-ERR STLS not available")
	}
	if !c.send("+OK Begin TLS negotiation") {
		return false
	}
	c.setConn(tls.Server(c.c, c.srv.TLSConfig))
	c.tls = true
	return true
}

// transaction runs the TRANSACTION state's commands.
func (c *conn) transaction(verb, arg string) bool {
	switch verb {
	case "STAT":
		n, size := c.drop.stat()
		return c.send("+OK %d %d", n, size)
	case "LIST", "UIDL":
		return c.list(verb, arg)
	case "RETR":
		return c.retr(arg)
	case "DELE":
		return c.dele(arg)
	case "RSET":
		clear(c.drop.deleted)
		return c.send("+OK")
	case "NOOP":
		return c.send("+OK")
	}
	return c.send("-ERR Unknown command")
}

// message parses a message number argument and finds the message.
func (c *conn) message(arg string) (int, *message) {
	n, err := strconv.Atoi(strings.TrimSpace(arg))
	if err != nil {
		return 0, nil
	}
	return n, c.drop.get(n)
}

// list answers LIST and UIDL, for one message or all.
func (c *conn) list(verb, arg string) bool {
	value := func(m *message) string {
		if verb == "UIDL" {
			return m.uid
		}
		return strconv.Itoa(len(m.data))
	}
	if arg != "" {
		n, m := c.message(arg)
		if m == nil {
			return c.send("-ERR No such message")
		}
		return c.send("+OK %d %s", n, value(m))
	}
	fmt.Fprintf(c.w, "+OK\r\n")
	for i, m := range c.drop.msgs {
		if !c.drop.deleted[i] {
			fmt.Fprintf(c.w, "%d %s\r\n", i+1, value(m))
		}
	}
	return c.send(".")
}

func (c *conn) retr(arg string) bool {
	_, m := c.message(arg)
	if m == nil {
		return c.send("-ERR No such message")
	}
	c.c.SetWriteDeadline(time.Now().Add(IdleTimeout))
	fmt.Fprintf(c.w, "+OK %d octets\r\n", len(m.data))
	if writeDotStuffed(c.w, m.data) != nil {
		return false
	}
	return c.w.Flush() == nil
}

func (c *conn) dele(arg string) bool {
	n, m := c.message(arg)
	if m == nil {
		return c.send("-ERR No such message")
	}
	c.drop.deleted[n-1] = true
	return c.send("+OK Marked to be deleted")
}

package securitytest

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// ioTimeout bounds every read and write of a test client.
const ioTimeout = 15 * time.Second

// client is a scripted mail client speaking raw lines.
type client struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func newClient(t *testing.T, c net.Conn) *client {
	return &client{t: t, conn: c, br: bufio.NewReader(c)}
}

func (c *client) send(s string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c.conn, s+"\r\n"); err != nil {
		c.t.Fatalf("send %q: %v", firstWord(s), err)
	}
}

func (c *client) line() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	l, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (after %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// until reads lines until one starts with prefix and returns it.
func (c *client) until(prefix string) string {
	c.t.Helper()
	for {
		if l := c.line(); strings.HasPrefix(l, prefix) {
			return l
		}
	}
}

// expect reads one line and fails unless it starts with prefix.
func (c *client) expect(prefix string) string {
	c.t.Helper()
	l := c.line()
	if !strings.HasPrefix(l, prefix) {
		c.t.Fatalf("got %q, want %q...", l, prefix)
	}
	return l
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func plainIR(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

func imapLogin(c *client, user, pass string) string {
	c.expect("* OK")
	c.send("a1 LOGIN " + quote(user) + " " + quote(pass))
	return strings.TrimPrefix(c.until("a1 "), "a1 ")
}

func imapSession(t *testing.T, c *client) {
	c.send("a2 SELECT INBOX")
	if l := c.until("a2 "); !strings.HasPrefix(l, "a2 OK") {
		t.Fatalf("SELECT: %q", l)
	}
	c.send("a3 LOGOUT")
	c.until("a3 OK")
}

func pop3Login(c *client, user, pass string) string {
	c.expect("+OK")
	c.send("USER " + user)
	c.expect("+OK")
	c.send("PASS " + pass)
	return c.line()
}

func pop3Session(t *testing.T, c *client) {
	c.send("STAT")
	c.expect("+OK 1 ")
	c.send("RETR 1")
	c.expect("+OK")
	c.until(".")
	c.send("QUIT")
	c.expect("+OK")
}

func smtpLogin(c *client, user, pass string) string {
	c.expect("220 ")
	c.send("EHLO client.test")
	c.until("250 ")
	c.send("AUTH PLAIN " + plainIR(user, pass))
	return c.line()
}

func smtpSession(t *testing.T, c *client) {
	for _, step := range []struct{ cmd, want string }{
		{"MAIL FROM:<" + alice + ">", "250"}, {"RCPT TO:<bob@example.org>", "250"}, {"DATA", "354"},
		{"Subject: test\r\n\r\nthrough the bridge\r\n.", "250"}, {"QUIT", "221"},
	} {
		c.send(step.cmd)
		if l := c.line(); !strings.HasPrefix(l, step.want) {
			t.Fatalf("%s: got %q, want %s", firstWord(step.cmd), l, step.want)
		}
	}
}

// okLogin says whether a login answer is a success.
func okLogin(answer string) bool {
	return strings.HasPrefix(answer, "OK") || strings.HasPrefix(answer, "+OK") || strings.HasPrefix(answer, "235")
}

func (fe frontEnd) String() string { return fmt.Sprintf("%s front end", fe.name) }

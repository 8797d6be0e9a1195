package smtptest

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"strings"
)

// watchListener wraps accepted connections in watchConn.
type watchListener struct {
	net.Listener
	srv *Server
}

func (l *watchListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &watchConn{Conn: c, br: bufio.NewReaderSize(c, 64<<10), srv: l.srv, atStart: true}, nil
}

// watchConn sees the client's lines before go-smtp does: it records AUTH
// command lines and refuses long ones the way Dovecot does, which go-smtp
// cannot (its one limit covers SASL response lines too). go-smtp reads and
// writes from one goroutine per connection, so Read may answer directly.
type watchConn struct {
	net.Conn
	br      *bufio.Reader
	srv     *Server
	pending []byte
	rerr    error
	atStart bool // the next chunk starts a line
	blind   bool // after STARTTLS the bytes are TLS records: pass them on
}

func (c *watchConn) Read(p []byte) (int, error) {
	if c.blind && len(c.pending) == 0 {
		return c.br.Read(p)
	}
	if len(c.pending) == 0 && !c.fill() {
		return 0, c.rerr
	}
	n := 0
	for n < len(p) {
		m := copy(p[n:], c.pending)
		n += m
		c.pending = c.pending[m:]
		// Hand over more whole lines while they are already buffered, so a
		// long message does not cost one Read per line.
		if len(c.pending) > 0 || c.blind || !c.lineBuffered() || !c.fill() {
			break
		}
	}
	return n, nil
}

// lineBuffered says a whole line is buffered, so fill will not block.
func (c *watchConn) lineBuffered() bool {
	b, _ := c.br.Peek(c.br.Buffered())
	return bytes.IndexByte(b, '\n') >= 0
}

// fill reads the next chunk that is to be passed on into pending; false
// when the connection failed first.
func (c *watchConn) fill() bool {
	for len(c.pending) == 0 && c.rerr == nil {
		chunk, err := c.br.ReadSlice('\n')
		if len(chunk) > 0 && c.keep(chunk) {
			c.pending = append(c.pending[:0], chunk...)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			c.rerr = err
		}
	}
	return len(c.pending) > 0
}

// keep inspects one chunk and says whether to pass it to go-smtp.
func (c *watchConn) keep(chunk []byte) bool {
	whole := c.atStart && chunk[len(chunk)-1] == '\n'
	c.atStart = chunk[len(chunk)-1] == '\n'
	if !whole {
		return true
	}
	line := string(bytes.TrimRight(chunk, "\r\n"))
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return true
	}
	switch strings.ToUpper(fields[0]) {
	case "STARTTLS":
		c.blind = true
	case "AUTH":
		return c.auth(line, fields)
	}
	return true
}

func (c *watchConn) auth(line string, fields []string) bool {
	cmd := AuthCommand{Len: len(line), InitialResponse: len(fields) > 2}
	if len(fields) > 1 {
		cmd.Mechanism = strings.ToUpper(fields[1])
	}
	c.srv.mu.Lock()
	c.srv.auths = append(c.srv.auths, cmd)
	c.srv.mu.Unlock()
	if c.srv.MaxCommandLine > 0 && len(line) > c.srv.MaxCommandLine {
		c.Conn.Write([]byte("500 5.5.2 Line too long\r\n"))
		return false
	}
	return true
}

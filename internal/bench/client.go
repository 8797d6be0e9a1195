package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Client is a minimal IMAP client for measuring: it speaks just enough to
// log in, select, fetch and idle, and reads responses without parsing
// more than line ends and literal sizes, so that its own cost stays small
// beside what it measures.
type Client struct {
	nc      net.Conn
	tc      *tls.Conn
	r       *bufio.Reader
	seq     int
	timeout time.Duration
}

// ErrNotOK is a tagged completion other than OK.
var ErrNotOK = errors.New("imap: command failed")

// Dialer opens Clients.
type Dialer struct {
	// Net dials TCP; its LocalAddr may pick a source address.
	Net net.Dialer
	// TLS is the client configuration: TLS from the first byte.
	TLS *tls.Config
	// Timeout bounds every later read or write.
	Timeout time.Duration
	// ReadBuffer sizes the client's read buffer (default 4 KiB); bulk
	// FETCHes use a large one so the client costs as little as possible.
	ReadBuffer int
	// SpreadSources dials from 127.0.0.2 to 127.0.0.255 in turn, so that
	// many clients look like an office of machines to the proxy's
	// per-source connection limit, which the benchmarks leave at its
	// default.
	SpreadSources bool

	next atomic.Uint32
}

// source returns the local address for the next dial, or nil.
func (d *Dialer) source() net.Addr {
	if !d.SpreadSources {
		return nil
	}
	n := d.next.Add(1)
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+n%254))}
}

// Dial connects to addr and reads the greeting.
func (d *Dialer) Dial(ctx context.Context, addr string) (*Client, error) {
	nd := d.Net
	if src := d.source(); src != nil {
		nd.LocalAddr = src
	}
	raw, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	tc := tls.Client(raw, d.TLS)
	size := d.ReadBuffer
	if size <= 0 {
		size = 4096
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	c := &Client{nc: raw, tc: tc, r: bufio.NewReaderSize(tc, size), timeout: timeout}
	c.deadline()
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("tls %s: %w", addr, err)
	}
	line, err := c.readLine()
	if err != nil || !strings.HasPrefix(line, "* OK") {
		raw.Close()
		return nil, fmt.Errorf("greeting from %s: %q: %v", addr, line, err)
	}
	return c, nil
}

// CipherSuite names the negotiated TLS cipher suite.
func (c *Client) CipherSuite() uint16 { return c.tc.ConnectionState().CipherSuite }

// Close closes the connection without LOGOUT.
func (c *Client) Close() error { return c.nc.Close() }

func (c *Client) deadline() { c.nc.SetDeadline(time.Now().Add(c.timeout)) }

// Login sends LOGIN with quoted strings.
func (c *Client) Login(user, password string) error {
	_, err := c.Do("LOGIN " + quote(user) + " " + quote(password))
	return err
}

// XOAuth2 logs in with AUTHENTICATE XOAUTH2 and SASL-IR, as oauthbridge
// itself does upstream.
func (c *Client) XOAuth2(user, token string) error {
	ir := base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01"))
	_, err := c.Do("AUTHENTICATE XOAUTH2 " + ir)
	return err
}

// Do sends one tagged command and reads to its completion, skipping
// untagged data and literals. It returns the literal bytes received.
func (c *Client) Do(cmd string) (int64, error) {
	tag, err := c.send(cmd)
	if err != nil {
		return 0, err
	}
	return c.await(tag)
}

// Idle starts IDLE and returns once the server's continuation came.
func (c *Client) Idle() error {
	tag, err := c.send("IDLE")
	if err != nil {
		return err
	}
	line, err := c.readLine()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+") {
		return fmt.Errorf("%w: IDLE answered %q (tag %s)", ErrNotOK, line, tag)
	}
	return nil
}

// Raw is the connection, for reads the caller times itself.
func (c *Client) Raw() net.Conn { return c.nc }

func (c *Client) send(cmd string) (string, error) {
	c.seq++
	tag := "b" + strconv.Itoa(c.seq)
	c.deadline()
	if _, err := io.WriteString(c.tc, tag+" "+cmd+"\r\n"); err != nil {
		return "", fmt.Errorf("send: %w", err)
	}
	return tag, nil
}

// await reads responses until tag's completion.
func (c *Client) await(tag string) (int64, error) {
	var lit int64
	for {
		line, n, err := c.readResponse()
		lit += n
		if err != nil {
			return lit, err
		}
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			if strings.HasPrefix(rest, "OK") {
				return lit, nil
			}
			return lit, fmt.Errorf("%w: %s", ErrNotOK, strings.TrimSpace(rest))
		}
	}
}

// readResponse reads one response line, skipping any literals inside it,
// and returns its first line and the literal bytes skipped.
func (c *Client) readResponse() (string, int64, error) {
	first, err := c.readLine()
	var lit int64
	for line := first; err == nil; {
		n, ok := literalSize(line)
		if !ok {
			break
		}
		if _, err = c.r.Discard(int(n)); err != nil {
			break
		}
		lit += n
		c.deadline()
		line, err = c.readLine()
	}
	return first, lit, err
}

func (c *Client) readLine() (string, error) {
	c.deadline()
	b, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = c.r.ReadSlice('\n')
			long = append(long, b...)
		}
		b = long
	}
	if err != nil {
		return string(b), fmt.Errorf("read: %w", err)
	}
	return string(bytes.TrimRight(b, "\r\n")), nil
}

// literalSize reports a trailing {n} on a response line.
func literalSize(line string) (int64, bool) {
	if !strings.HasSuffix(line, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(line[i+1:len(line)-1], "+"), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

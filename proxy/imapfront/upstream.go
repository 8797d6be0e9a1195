package imapfront

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/lineio"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// UpstreamConn is an upstream IMAP connection in the authenticated state,
// ready to be relayed.
type UpstreamConn struct {
	// Conn is the connection, TLS unless the endpoint is plain.
	Conn net.Conn
	// Reader holds bytes the server sent after its tagged OK; read the
	// connection through it.
	Reader *bufio.Reader
	// Caps is the server's capability list after login.
	Caps []string
}

// UpstreamError is a failed upstream login with the server's own words.
// It unwraps to one of the upstream package's sentinel errors.
type UpstreamError struct {
	// Err is upstream.ErrRejected, ErrUnavailable, ErrProtocol, ErrTLS or
	// ErrUnreachable.
	Err error
	// Addr is the server's host:port.
	Addr string
	// Text is what the server said, or what went wrong; never secret.
	Text string
	// Scope is the scope a refusing server asked for in its error
	// challenge, if it named one.
	Scope string
}

// Error says which server failed how, with the server's words.
func (e *UpstreamError) Error() string {
	return "imap upstream " + e.Addr + ": " + e.Err.Error() + e.detail()
}

// Unwrap returns the sentinel error.
func (e *UpstreamError) Unwrap() error { return e.Err }

// detail is the part of the message that helps a user: the server's text
// and the scope it wants.
func (e *UpstreamError) detail() string {
	var sb strings.Builder
	if t := clean(e.Text); t != "" {
		sb.WriteString(": " + t)
	}
	if s := clean(e.Scope); s != "" {
		sb.WriteString(" (scope " + s + ")")
	}
	return sb.String()
}

// maxUpstreamLine bounds a line from the upstream before login; the
// reader's buffer (this plus CRLF) lives on through the relay, so it is
// kept small.
const maxUpstreamLine = 16*1024 - 2

// upConn is an upstream connection during login.
type upConn struct {
	conn  net.Conn
	br    *bufio.Reader
	lines *lineio.Reader
	ep    upstream.Endpoint
	seq   int
	caps  []string
	bye   string // text of an untagged BYE, if one came
}

// LoginUpstream connects to the grant's upstream server and logs in with
// its access token: greeting, STARTTLS if the endpoint wants it,
// capabilities, AUTHENTICATE XOAUTH2 (or OAUTHBEARER), with SASL-IR when
// the server offers it. Every step runs under ctx's deadline
// (DefaultUpstreamTimeout when it has none). Failures are *UpstreamError
// or errors from upstream.Dial, all matching the upstream sentinels.
func LoginUpstream(ctx context.Context, g *login.Grant) (*UpstreamConn, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultUpstreamTimeout)
		defer cancel()
	}
	conn, err := upstream.Dial(ctx, g.Upstream)
	if err != nil {
		return nil, err
	}
	u := &upConn{ep: g.Upstream}
	u.setConn(conn)
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	up, err := u.login(ctx, g)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		u.conn.Close()
		return nil, u.wrap(err)
	}
	conn.SetDeadline(time.Time{})
	return up, nil
}

func (u *upConn) setConn(c net.Conn) {
	u.conn = c
	u.br = bufio.NewReaderSize(c, maxUpstreamLine+2)
	u.lines = lineio.New(u.br, maxUpstreamLine)
}

// login runs the dialogue up to the authenticated state.
func (u *upConn) login(ctx context.Context, g *login.Grant) (*UpstreamConn, error) {
	if err := u.greeting(); err != nil {
		return nil, err
	}
	if u.ep.TLS == upstream.StartTLS {
		if err := u.startTLS(ctx); err != nil {
			return nil, err
		}
	}
	if u.caps == nil {
		if err := u.capability(); err != nil {
			return nil, err
		}
	}
	if err := u.authenticate(g); err != nil {
		return nil, err
	}
	if u.caps == nil {
		if err := u.capability(); err != nil {
			return nil, err
		}
	}
	return &UpstreamConn{Conn: u.conn, Reader: u.br, Caps: u.caps}, nil
}

func (u *upConn) greeting() error {
	line, err := u.lines.ReadLine()
	if err != nil {
		return err
	}
	r := parseResponse(line)
	switch {
	case r.tag != "*":
	case r.kind == "OK":
		u.caps, _ = r.capabilities()
		return nil
	case r.kind == "BYE":
		return u.fail(upstream.ErrUnavailable, r.text)
	case r.kind == "PREAUTH":
		return u.fail(upstream.ErrProtocol, "server greeted with PREAUTH")
	}
	return u.fail(upstream.ErrProtocol, "unexpected greeting")
}

// startTLS upgrades the connection. Bytes the server sent after its OK
// would be plaintext someone could have injected: that is a failure.
func (u *upConn) startTLS(ctx context.Context) error {
	r, err := u.command("STARTTLS")
	if err != nil {
		return err
	}
	if r.kind != "OK" {
		return u.fail(upstream.ErrTLS, "STARTTLS refused: "+r.text)
	}
	if u.br.Buffered() > 0 {
		return u.fail(upstream.ErrProtocol, "plaintext data after STARTTLS")
	}
	tc, err := upstream.Handshake(ctx, u.conn, u.ep)
	if err != nil {
		return err
	}
	u.setConn(tc)
	u.caps = nil
	return nil
}

func (u *upConn) capability() error {
	r, err := u.command("CAPABILITY")
	if err != nil {
		return err
	}
	if r.kind != "OK" || u.caps == nil {
		return u.fail(upstream.ErrProtocol, "CAPABILITY failed: "+r.text)
	}
	return nil
}

// command sends a command without arguments and returns its completion.
func (u *upConn) command(name string) (response, error) {
	tag := u.nextTag()
	if err := u.writeLine(tag + " " + name); err != nil {
		return response{}, err
	}
	r, err := u.await(tag)
	if err == nil && r.tag == "+" {
		err = u.fail(upstream.ErrProtocol, "unexpected continuation request")
	}
	return r, err
}

func (u *upConn) nextTag() string {
	u.seq++
	return "ob" + strconv.Itoa(u.seq)
}

// writeLine sends one line. Its content (possibly a token) never goes
// into the error.
func (u *upConn) writeLine(s string) error {
	if _, err := io.WriteString(u.conn, s+"\r\n"); err != nil {
		return fmt.Errorf("write to mail server: %w", err)
	}
	return nil
}

func (u *upConn) fail(kind error, text string) error {
	return &UpstreamError{Err: kind, Addr: u.ep.Addr, Text: text}
}

// wrap turns an I/O error into the sentinel a user can act on.
func (u *upConn) wrap(err error) error {
	var ue *UpstreamError
	switch {
	case errors.As(err, &ue),
		errors.Is(err, upstream.ErrTLS), errors.Is(err, upstream.ErrUnreachable):
		return err
	case isTimeout(err), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return u.fail(upstream.ErrUnreachable, "no answer in time")
	case errors.Is(err, lineio.ErrTooLong):
		return u.fail(upstream.ErrProtocol, "response line too long")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		if u.bye != "" {
			return u.fail(upstream.ErrUnavailable, u.bye)
		}
		return u.fail(upstream.ErrUnavailable, "connection closed by server")
	}
	return u.fail(upstream.ErrUnavailable, "connection failed: "+err.Error())
}

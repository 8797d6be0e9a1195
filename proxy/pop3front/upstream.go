package pop3front

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/lineio"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// upstreamMaxLine bounds a reply line from the upstream during login.
// Replies are short; the longest is an XOAUTH2 error challenge (base64
// JSON, a few hundred bytes).
const upstreamMaxLine = 4094

// maxCapaLines bounds a CAPA listing, so a hostile server cannot keep the
// login going forever.
const maxCapaLines = 100

// UpstreamOptions tune LoginUpstream.
type UpstreamOptions struct {
	// IRStyle says how AUTH carries the credentials; "" means IRAuto.
	IRStyle IRStyle
}

// LoginUpstream connects to g.Upstream, establishes TLS as the endpoint
// says, reads CAPA (tolerating servers without it) and logs in with
// g.Mechanism (XOAUTH2 unless "OAUTHBEARER") and g.AccessToken.
//
// It returns the connection and the reader holding whatever the server
// sent after its final +OK, both ready for proxy.Relay, with no deadline
// left set. Errors wrap upstream.ErrUnreachable, ErrTLS, ErrRejected,
// ErrUnavailable or ErrProtocol, and a negative reply arrives as a
// *ReplyError; no error text ever contains the token. Without a deadline
// in ctx, DefaultUpstreamTimeout applies.
func LoginUpstream(ctx context.Context, g *login.Grant, opt UpstreamOptions) (net.Conn, *bufio.Reader, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultUpstreamTimeout)
		defer cancel()
	}
	conn, err := upstream.Dial(ctx, g.Upstream)
	if err != nil {
		return nil, nil, fmt.Errorf("pop3 upstream: %w", err)
	}
	u := newUpConn(ctx, conn)
	err = u.login(ctx, g, opt)
	if !u.unwatch() && err == nil {
		err = fmt.Errorf("login: %w: %v", upstream.ErrUnreachable, ctx.Err())
	}
	if err != nil {
		u.conn.Close()
		return nil, nil, fmt.Errorf("pop3 upstream %s: %w", g.Upstream.Addr, err)
	}
	u.conn.SetDeadline(time.Time{})
	return u.conn, u.br, nil
}

// upConn is an upstream connection during login.
type upConn struct {
	conn    net.Conn
	br      *bufio.Reader
	lr      *lineio.Reader
	unwatch func() bool
	// secrets must never appear in a ReplyError's text: the token and the
	// encoded credentials, in case a server echoes a command line.
	secrets []string
}

// newUpConn sets the context's deadline on conn and makes cancellation
// interrupt any blocked read or write.
func newUpConn(ctx context.Context, conn net.Conn) *upConn {
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	u := &upConn{conn: conn}
	u.unwatch = context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	u.setReader(conn)
	return u
}

func (u *upConn) setReader(r io.Reader) {
	u.br = bufio.NewReaderSize(r, upstreamMaxLine+2)
	u.lr = lineio.New(u.br, upstreamMaxLine)
}

// login runs greeting, STLS, CAPA and AUTH in order.
func (u *upConn) login(ctx context.Context, g *login.Grant, opt UpstreamOptions) error {
	u.secrets = append(u.secrets, g.AccessToken)
	r, err := u.read("greeting")
	if err != nil {
		return err
	}
	if r.kind != kindOK {
		return u.refusal("greeting", r, upstream.ErrUnavailable, "")
	}
	if g.Upstream.TLS == upstream.StartTLS {
		if err := u.startTLS(ctx, g.Upstream); err != nil {
			return err
		}
	}
	mech, err := newMechClient(g)
	if err != nil {
		return err
	}
	if err := u.checkCapa(mech.name()); err != nil {
		return err
	}
	return u.auth(mech, opt.IRStyle)
}

// startTLS sends STLS and runs the handshake. Bytes the server sent after
// its +OK are an injection attempt (or a broken server): refuse them.
func (u *upConn) startTLS(ctx context.Context, ep upstream.Endpoint) error {
	if err := u.send("STLS"); err != nil {
		return err
	}
	r, err := u.read("STLS")
	if err != nil {
		return err
	}
	if r.kind != kindOK {
		return u.refusal("STLS", r, upstream.ErrTLS, "")
	}
	if u.br.Buffered() > 0 {
		return fmt.Errorf("STLS: %w: data sent before the TLS handshake", upstream.ErrProtocol)
	}
	tc, err := upstream.Handshake(ctx, u.conn, ep)
	if err != nil {
		return err
	}
	u.conn = tc
	u.setReader(tc)
	return nil
}

// checkCapa asks for CAPA and fails early, with a clear error, when the
// server lists SASL mechanisms without ours. A server without CAPA, or
// without a SASL line, gets the benefit of the doubt.
func (u *upConn) checkCapa(mech string) error {
	caps, err := u.capa()
	if err != nil {
		return err
	}
	for _, c := range caps {
		f := strings.Fields(strings.ToUpper(c))
		if len(f) == 0 || f[0] != "SASL" {
			continue
		}
		for _, m := range f[1:] {
			if m == mech {
				return nil
			}
		}
		return fmt.Errorf("CAPA: %w: server does not offer %s (SASL %s)", upstream.ErrProtocol, mech, strings.Join(f[1:], " "))
	}
	return nil
}

// capa returns the CAPA lines, or none when the server has no CAPA.
func (u *upConn) capa() ([]string, error) {
	if err := u.send("CAPA"); err != nil {
		return nil, err
	}
	r, err := u.read("CAPA")
	if err != nil || r.kind != kindOK {
		return nil, err
	}
	var caps []string
	for len(caps) <= maxCapaLines {
		line, err := u.readLine("CAPA")
		if err != nil {
			return nil, err
		}
		if line == "." {
			return caps, nil
		}
		caps = append(caps, line)
	}
	return nil, fmt.Errorf("CAPA: %w: more than %d lines", upstream.ErrProtocol, maxCapaLines)
}

// send writes one command line. The line may hold credentials, so it never
// appears in an error.
func (u *upConn) send(line string) error {
	if _, err := io.WriteString(u.conn, line+"\r\n"); err != nil {
		return fmt.Errorf("write: %w: %v", upstream.ErrUnavailable, err)
	}
	return nil
}

// read reads and parses one reply line.
func (u *upConn) read(step string) (reply, error) {
	line, err := u.readLine(step)
	if err != nil {
		return reply{}, err
	}
	r, err := parseReply(line)
	if err != nil {
		return reply{}, fmt.Errorf("%s: %w", step, err)
	}
	return r, nil
}

// readLine reads one line and classifies read failures: no answer in time
// is "unreachable", a dropped connection "temporarily unavailable".
func (u *upConn) readLine(step string) (string, error) {
	line, err := u.lr.ReadLine()
	var ne net.Error
	switch {
	case err == nil:
		return string(line), nil
	case errors.Is(err, lineio.ErrTooLong):
		return "", fmt.Errorf("%s: %w: reply line too long", step, upstream.ErrProtocol)
	case errors.As(err, &ne) && ne.Timeout():
		return "", fmt.Errorf("%s: %w: no reply in time", step, upstream.ErrUnreachable)
	default:
		return "", fmt.Errorf("%s: %w: %v", step, upstream.ErrUnavailable, err)
	}
}

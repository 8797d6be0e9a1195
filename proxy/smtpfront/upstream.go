package smtpfront

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/lineio"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// upConn is a session with the provider's submission server. Once
// dialUpstream returns it, it has seen EHLO and a successful AUTH and is
// ready to relay; r may hold bytes the server sent early.
type upConn struct {
	conn  net.Conn
	r     *bufio.Reader
	lines *lineio.Reader
	caps  capabilities
}

// dialUpstream connects to the grant's submission server and logs in:
// greeting, EHLO with the client's own name, STARTTLS and EHLO again when
// the endpoint says so, then AUTH. Every step is bounded by ctx.
func dialUpstream(ctx context.Context, g *login.Grant, helo string) (*upConn, error) {
	switch g.Upstream.TLS {
	case upstream.Implicit, upstream.StartTLS, upstream.Plain:
	default:
		// upstream.Dial would speak clear text for an unset mode.
		return nil, fmt.Errorf("upstream %s: %w: unknown TLS mode %q", g.Upstream.Addr, upstream.ErrTLS, g.Upstream.TLS)
	}
	nc, err := upstream.Dial(ctx, g.Upstream)
	if err != nil {
		return nil, err
	}
	u := &upConn{}
	u.setTransport(nc)
	// Deadlines on the dialled conn also bound a TLS layer put on it later.
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := u.open(ctx, g, helo); err != nil {
		u.conn.Close()
		return nil, err
	}
	return u, nil
}

func (u *upConn) setTransport(nc net.Conn) {
	u.conn = nc
	u.r = bufio.NewReaderSize(nc, maxUpstreamLine+2)
	u.lines = lineio.New(u.r, maxUpstreamLine)
}

func (u *upConn) open(ctx context.Context, g *login.Grant, helo string) error {
	if r, err := u.read("greeting"); err != nil {
		return err
	} else if r.code != 220 {
		return unexpected("greeting", r)
	}
	if err := u.ehlo(helo); err != nil {
		return err
	}
	if g.Upstream.TLS == upstream.StartTLS {
		if err := u.startTLS(ctx, g.Upstream); err != nil {
			return err
		}
		if err := u.ehlo(helo); err != nil {
			return err
		}
	}
	return u.auth(g)
}

func (u *upConn) ehlo(helo string) error {
	r, err := u.cmd("ehlo", "EHLO "+helo)
	if err != nil {
		return err
	}
	if r.code != 250 {
		return unexpected("ehlo", r)
	}
	u.caps = parseEHLO(r.lines)
	return nil
}

// startTLS upgrades the upstream connection. A server that sends more
// after its 220 is refused: those bytes would otherwise be read as if
// they had come through TLS.
func (u *upConn) startTLS(ctx context.Context, ep upstream.Endpoint) error {
	r, err := u.cmd("starttls", "STARTTLS")
	if err != nil {
		return err
	}
	if r.code != 220 {
		if r.code/100 == 4 {
			return unexpected("starttls", r)
		}
		return &replyError{stage: "starttls", code: r.code, text: r.text(), kind: upstream.ErrTLS}
	}
	if u.r.Buffered() > 0 {
		return fmt.Errorf("upstream starttls: %w: data after the 220 reply", upstream.ErrProtocol)
	}
	tc, err := upstream.Handshake(ctx, u.conn, ep)
	if err != nil {
		return err
	}
	u.setTransport(tc)
	return nil
}

// cmd sends one command line and reads the reply.
func (u *upConn) cmd(stage, line string) (reply, error) {
	if err := u.write(stage, line); err != nil {
		return reply{}, err
	}
	return u.read(stage)
}

// write sends one line. The line may carry a token, so it never appears
// in an error.
func (u *upConn) write(stage, line string) error {
	if _, err := io.WriteString(u.conn, line+"\r\n"); err != nil {
		return fmt.Errorf("upstream %s: write: %w: %v", stage, upstream.ErrUnreachable, err)
	}
	return nil
}

// read reads one reply; a server that hangs up is unavailable, one that
// goes silent past the deadline unreachable.
func (u *upConn) read(stage string) (reply, error) {
	r, err := readReply(u.lines)
	switch {
	case err == nil, errors.Is(err, upstream.ErrProtocol):
		return r, err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return r, fmt.Errorf("upstream %s: %w: connection closed", stage, upstream.ErrUnavailable)
	case errors.Is(err, lineio.ErrTooLong):
		return r, fmt.Errorf("upstream %s: %w: reply line too long", stage, upstream.ErrProtocol)
	}
	return r, fmt.Errorf("upstream %s: %w: %v", stage, upstream.ErrUnreachable, err)
}

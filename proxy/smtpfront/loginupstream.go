package smtpfront

import (
	"bufio"
	"context"
	"net"

	"github.com/oauthbridge/oauthbridge/proxy/login"
)

// LoginUpstream connects to the grant's submission server and logs in
// exactly as the front end does (greeting, EHLO helo, STARTTLS when the
// endpoint says so, AUTH), for callers that test an account outside a
// client session (`oauthbridge doctor`). It returns the connection and
// the reader holding anything the server sent after its 235; the caller
// closes the connection. Errors match the upstream package's sentinels
// and never contain the token.
func LoginUpstream(ctx context.Context, g *login.Grant, helo string) (net.Conn, *bufio.Reader, error) {
	u, err := dialUpstream(ctx, g, helo)
	if err != nil {
		return nil, nil, err
	}
	return u.conn, u.r, nil
}

package pop3front

import (
	"bufio"
	"context"
	"errors"
	"net"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// login runs one login attempt with collected credentials. On success it
// answers "+OK Logged in" and relays until the session ends (returning
// false); on failure it answers "-ERR" and the dialogue goes on.
func (c *session) login(user, password string) bool {
	c.ps.Account = user
	g, up, err := c.attempt(user, password)
	if err != nil {
		f := loginFailure(err)
		c.ps.Result = login.Outcome(err)
		c.log.Info("login failed", zap.String("user", user), zap.String("result", c.ps.Result), zap.Error(err))
		proxy.ReportLogin(c.srv.Observer, c.ps, err)
		return c.reply(f.reply)
	}
	c.ps.Account = g.Account
	c.ps.Result = "ok"
	c.log.Info("login", zap.String("account", g.Account), zap.String("upstream", g.Upstream.Addr))
	proxy.ReportLogin(c.srv.Observer, c.ps, nil)
	if !c.reply(replyLoggedIn) {
		up.conn.Close()
		return false
	}
	c.relay(up)
	return false
}

// errNoAuthenticator reports a Server wired without Auth; the client
// gets a temporary internal error rather than a crash.
var errNoAuthenticator = errors.New("pop3front: no Authenticator configured")

// upstreamConn is a logged-in upstream connection.
type upstreamConn struct {
	conn net.Conn
	r    *bufio.Reader
}

// attempt authenticates and logs in upstream. When the upstream refuses
// the access token, the Authenticator is told (so it drops the token) and
// asked once more, which normally refreshes the token: a token revoked or
// expired early then costs the user nothing.
func (c *session) attempt(user, password string) (*login.Grant, *upstreamConn, error) {
	ctx, cancel := context.WithTimeout(c.ctx, orDuration(c.srv.UpstreamTimeout, DefaultUpstreamTimeout))
	defer cancel()
	if c.srv.Auth == nil {
		return nil, nil, errNoAuthenticator
	}
	req := login.Request{Protocol: login.POP3, Username: user, Password: password, Remote: c.ps.Remote}
	var g *login.Grant
	var up *upstreamConn
	var err error
	for try := 0; try < 2; try++ {
		if g, err = c.srv.Auth.Authenticate(ctx, req); err != nil {
			return nil, nil, err
		}
		start := time.Now()
		up, err = c.srv.dialUpstream(ctx, g)
		proxy.ReportUpstream(c.srv.Observer, c.ps, start, err)
		if !errors.Is(err, upstream.ErrRejected) {
			break
		}
		c.srv.Auth.Rejected(g)
		c.log.Info("upstream refused access token", zap.String("account", g.Account), zap.Int("try", try+1))
	}
	return g, up, err
}

// dialUpstream logs in to the grant's upstream POP3 server.
func (srv *Server) dialUpstream(ctx context.Context, g *login.Grant) (*upstreamConn, error) {
	conn, r, err := LoginUpstream(ctx, g, UpstreamOptions{IRStyle: srv.IRStyle})
	if err != nil {
		return nil, err
	}
	return &upstreamConn{conn: conn, r: r}, nil
}

// relay hands both connections to proxy.Relay. The pre-login deadline
// and the shutdown watcher go (Relay watches ctx itself), and each
// buffered reader is replaced by whatever it still holds followed by its
// connection, so an idle session keeps no line buffers alive.
func (c *session) relay(up *upstreamConn) {
	c.unwatch()
	c.conn.SetDeadline(time.Time{})
	client := proxy.Peer{Conn: c.conn, Reader: proxy.Drain(c.br, c.conn)}
	server := proxy.Peer{Conn: up.conn, Reader: proxy.Drain(up.r, up.conn)}
	c.br, c.lr = nil, nil
	if err := proxy.Relay(c.ctx, c.ps, client, server); err != nil {
		c.log.Debug("relay ended", zap.Error(err))
	}
}

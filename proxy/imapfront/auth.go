package imapfront

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// login checks the credentials, logs in upstream and, on success, relays
// until the session ends. On failure the client may try again.
func (c *conn) login(tag, user, password string) next {
	c.s.Account = user
	grant, up, err := c.connect(user, password)
	if err != nil {
		f := classify(err, grant)
		c.setResult(login.Outcome(err))
		c.log.Info("imap login failed", zap.String("result", login.Outcome(err)), zap.Error(err))
		proxy.ReportLogin(c.srv.Observer, c.s, err)
		return c.reply(tag + " NO " + f.reply())
	}
	c.s.Account = grant.Account
	c.s.Result = "ok"
	c.log.Info("imap login", zap.String("account", grant.Account), zap.String("upstream", grant.Upstream.Addr))
	proxy.ReportLogin(c.srv.Observer, c.s, nil)
	ok := tag + " OK Logged in"
	if len(up.Caps) > 0 {
		ok = tag + " OK [CAPABILITY " + strings.Join(up.Caps, " ") + "] Logged in"
	}
	if c.send(ok) != nil {
		up.Conn.Close()
		return hangUp
	}
	c.relay(up)
	return hangUp
}

// connect authenticates and logs in upstream. When the upstream refuses
// the token, the authenticator hears of it and is asked once more: that
// second call refreshes the token, which fixes a token revoked or expired
// early at the provider.
func (c *conn) connect(user, password string) (*login.Grant, *UpstreamConn, error) {
	grant, err := c.authenticate(user, password)
	if err != nil {
		return nil, nil, err
	}
	up, err := c.upstreamLogin(grant)
	if !errors.Is(err, upstream.ErrRejected) {
		return grant, up, err
	}
	c.srv.Auth.Rejected(grant)
	c.log.Info("upstream refused the access token, retrying once", zap.String("account", grant.Account))
	if grant, err = c.authenticate(user, password); err != nil {
		return nil, nil, err
	}
	up, err = c.upstreamLogin(grant)
	if errors.Is(err, upstream.ErrRejected) {
		// A token refused twice is not worth offering a third time.
		c.srv.Auth.Rejected(grant)
	}
	return grant, up, err
}

func (c *conn) authenticate(user, password string) (*login.Grant, error) {
	ctx, cancel := context.WithTimeout(c.ctx, orDuration(c.srv.AuthTimeout, DefaultAuthTimeout))
	defer cancel()
	g, err := c.srv.Auth.Authenticate(ctx, login.Request{
		Protocol: login.IMAP,
		Username: user,
		Password: password,
		Remote:   c.s.Remote,
	})
	if err == nil && g == nil {
		err = errNoGrant
	}
	return g, err
}

// errNoGrant stands for an authenticator that returned neither a grant
// nor an error; the client gets the internal-error reply.
var errNoGrant = errors.New("authenticator returned no grant")

func (c *conn) upstreamLogin(g *login.Grant) (*UpstreamConn, error) {
	ctx, cancel := context.WithTimeout(c.ctx, orDuration(c.srv.UpstreamTimeout, DefaultUpstreamTimeout))
	defer cancel()
	start := time.Now()
	up, err := LoginUpstream(ctx, g)
	proxy.ReportUpstream(c.srv.Observer, c.s, start, err)
	return up, err
}

// relay hands both connections to proxy.Relay, each with whatever its
// reader still holds ahead of the rest of its stream. The login-phase
// readers are dropped, so an idle session keeps none of their buffers
// alive. The login deadline no longer applies: IDLE may last hours.
func (c *conn) relay(up *UpstreamConn) {
	c.stopWatch()
	c.nc.SetDeadline(time.Time{})
	client := proxy.Peer{Conn: c.nc, Reader: proxy.Drain(c.br, c.nc)}
	server := proxy.Peer{Conn: up.Conn, Reader: proxy.Drain(up.Reader, up.Conn)}
	c.br, c.lines, up.Reader = nil, nil, nil
	err := proxy.Relay(c.ctx, c.s, client, server)
	if err != nil {
		c.log.Debug("relay ended", zap.Error(err))
	}
}

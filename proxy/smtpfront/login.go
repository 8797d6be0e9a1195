package smtpfront

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/saslmech"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// login checks the credentials, logs in upstream and, on success, answers
// 235 and asks for the relay. Failures get the reply classify chooses.
func (c *conn) login(creds *saslmech.Credentials) step {
	c.sess.Account = creds.Username
	ctx, cancel := context.WithTimeout(c.ctx, c.srv.upstreamTimeout())
	defer cancel()
	req := login.Request{Protocol: login.SMTP, Username: creds.Username,
		Password: creds.Password, Remote: c.sess.Remote}
	up, g, err := c.srv.authenticate(ctx, c.sess, req, c.helo)
	if err != nil {
		return c.loginFailed(err)
	}
	c.sess.Account = g.Account
	c.sess.Result = "ok"
	c.log.Info("login", zap.String("account", g.Account), zap.String("provider", g.Provider),
		zap.String("result", "ok"))
	proxy.ReportLogin(c.srv.Observer, c.sess, nil)
	c.send("235 2.7.0 Authentication successful\r\n")
	if c.werr != nil {
		up.conn.Close()
		return stepClose
	}
	c.up = up
	return stepRelay
}

// loginFailed answers a failed login. The connection stays open (the user
// may retry) unless the server is shutting down.
func (c *conn) loginFailed(err error) step {
	if c.ctx.Err() != nil {
		c.readFailed(c.ctx.Err())
		return stepClose
	}
	reply, result := classify(err), login.Outcome(err)
	c.sess.Result = result
	c.log.Info("login", zap.String("account", c.sess.Account), zap.String("result", result),
		zap.Error(err))
	proxy.ReportLogin(c.srv.Observer, c.sess, err)
	c.send(reply)
	if c.werr != nil {
		return stepClose
	}
	return stepNext
}

// authenticate gets a grant and logs in upstream with it. When the
// upstream refuses the token, the authenticator is told and asked once
// more (a token can be revoked before it expires), and the new one tried.
func (srv *Server) authenticate(ctx context.Context, sess *proxy.Session, req login.Request, helo string) (*upConn, *login.Grant, error) {
	for attempt := 1; ; attempt++ {
		g, err := srv.Auth.Authenticate(ctx, req)
		if err == nil && g == nil {
			err = fmt.Errorf("authenticator returned no grant: %w", login.ErrTemporary)
		}
		if err != nil {
			return nil, nil, err
		}
		start := time.Now()
		up, err := dialUpstream(ctx, g, helo)
		proxy.ReportUpstream(srv.Observer, sess, start, err)
		if err == nil {
			srv.caps.learn(g.Provider, up.caps)
			return up, g, nil
		}
		if !errors.Is(err, upstream.ErrRejected) {
			return nil, g, err
		}
		srv.Auth.Rejected(g)
		if attempt == 2 {
			return nil, g, err
		}
	}
}

// classify maps a failed login to the client's reply and the session's
// result. Unknown users and wrong passwords share one reply.
func classify(err error) (reply string) {
	var consent *login.ConsentError
	switch {
	case errors.As(err, &consent):
		msg := clean(consent.Message, maxConsent)
		if msg == "" {
			msg = "Authorisation needed: ask your administrator for the consent link"
		}
		return "535 5.7.8 " + msg + "\r\n"
	case errors.Is(err, login.ErrBadCredentials):
		return "535 5.7.8 Authentication credentials invalid\r\n"
	case errors.Is(err, login.ErrThrottled):
		return "454 4.7.0 Too many failed logins, try again later\r\n"
	case errors.Is(err, login.ErrTemporary):
		return "454 4.7.0 Temporary authentication failure, try again later\r\n"
	case errors.Is(err, upstream.ErrRejected):
		return "535 5.7.8 Mail server refused the access token" + serverSaid(err) + "\r\n"
	case errors.Is(err, upstream.ErrUnreachable):
		return "454 4.7.0 Mail server unreachable, try again later\r\n"
	case errors.Is(err, upstream.ErrTLS):
		return "454 4.7.0 Mail server TLS verification failed, try again later\r\n"
	case errors.Is(err, upstream.ErrUnavailable):
		return "454 4.7.0 Mail server temporarily unavailable" + serverSaid(err) + "\r\n"
	case errors.Is(err, upstream.ErrProtocol):
		return "454 4.7.0 Unexpected reply from mail server" + serverSaid(err) + "\r\n"
	case errors.Is(err, login.ErrNoProtocol):
		return "454 4.7.0 No mail server configured for sending from this account\r\n"
	case errors.Is(err, context.DeadlineExceeded):
		return "454 4.7.0 Login took too long, try again later\r\n"
	}
	return "454 4.7.0 Internal error, try again later\r\n"
}

// serverSaid quotes the upstream's reply text, when there is one, so that
// users see what the provider objects to (e.g. Microsoft's "5.7.139
// Authentication unsuccessful, SmtpClientAuthentication is disabled for
// the Tenant").
func serverSaid(err error) string {
	var re *replyError
	if !errors.As(err, &re) || re.text == "" {
		return ""
	}
	return ": " + re.text
}

package main

import (
	"crypto/tls"
	"io"
	"net"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/imapfront"
	"github.com/oauthbridge/oauthbridge/proxy/listener"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/pop3front"
)

// frontEnd describes how one listener key is served.
type frontEnd struct {
	// implicit: TLS from the first byte.
	implicit bool
	// listenerTLS: the listener completes the implicit TLS handshake (the
	// front end then only sees a *tls.Conn); otherwise the front end does
	// it itself.
	listenerTLS bool
	// refusal is the line sent to a plain-text client over the limit.
	refusal string
	build   func(frontParams) proxy.Handler
}

// frontParams is what every front end is built from.
type frontParams struct {
	auth       login.Authenticator
	tls        *tls.Config
	implicit   bool
	requireTLS bool
	limits     config.Limits
	observer   proxy.LoginObserver
	log        *zap.Logger
}

// frontEnds maps listener keys to front ends; a front end's own file may
// add itself (see frontend_smtp.go).
var frontEnds = map[string]frontEnd{
	"imap":  {build: newIMAP, refusal: "* BYE Too many connections, try again later\r\n"},
	"imaps": {build: newIMAP, implicit: true, listenerTLS: true},
	"pop3":  {build: newPOP3, refusal: "-ERR [SYS/TEMP] Too many connections, try again later\r\n"},
	"pop3s": {build: newPOP3, implicit: true, listenerTLS: true},
}

func newIMAP(p frontParams) proxy.Handler {
	return &imapfront.Server{
		Auth: p.auth, TLSConfig: p.tls, Implicit: p.implicit, RequireTLS: p.requireTLS,
		MaxLine: p.limits.MaxLineBytes, MaxLiteral: p.limits.MaxLiteralBytes,
		MaxCommands: p.limits.MaxCommands, LoginTimeout: p.limits.LoginTimeout, Log: p.log,
		Observer: p.observer,
	}
}

func newPOP3(p frontParams) proxy.Handler {
	return &pop3front.Server{
		Auth: p.auth, TLSConfig: p.tls, Implicit: p.implicit, RequireTLS: p.requireTLS,
		MaxLine: p.limits.MaxLineBytes, MaxCommands: p.limits.MaxCommands,
		LoginTimeout: p.limits.LoginTimeout, Log: p.log, Observer: p.observer,
	}
}

// buildHandlers builds the front end of every configured mail listener.
// A reload builds a new set; the listeners stay.
func buildHandlers(cfg *config.Config, auth login.Authenticator, tlsCfg *tls.Config, obs proxy.LoginObserver, log *zap.Logger) map[string]proxy.Handler {
	out := map[string]proxy.Handler{}
	for _, na := range cfg.Listen.All() {
		fe, ok := frontEnds[na.Name]
		if !ok {
			continue
		}
		out[na.Name] = fe.build(frontParams{auth: auth, tls: tlsCfg, implicit: fe.implicit, limits: cfg.Limits,
			observer: obs, log: log, requireTLS: requireTLS(fe, na)})
	}
	return out
}

// buildListeners creates a listener for every configured mail listener,
// all sharing one connection limit; handler gives each its handler.
func buildListeners(cfg *config.Config, handler func(name string) proxy.Handler, tlsCfg *tls.Config, log *zap.Logger) []*listener.Server {
	limit := listener.NewLimiter(cfg.Limits.MaxConnections)
	sources := listener.NewSourceLimiter(cfg.Limits.MaxConnectionsPerSource)
	var out []*listener.Server
	for _, na := range cfg.Listen.All() {
		fe, ok := frontEnds[na.Name]
		if !ok {
			if na.Name != "http" {
				log.Warn("listener has no front end in this build; not started", zap.String("listener", na.Name))
			}
			continue
		}
		l := &listener.Server{Name: na.Name, Addr: na.Addr, Handler: handler(na.Name), Limiter: limit,
			Sources: sources, PreLoginBytes: cfg.Limits.MaxPreLoginBytes,
			HandshakeTimeout: cfg.Limits.LoginTimeout, Log: log}
		if fe.listenerTLS {
			l.TLSConfig = tlsCfg
		}
		if fe.refusal != "" {
			line := fe.refusal
			l.Refuse = func(c net.Conn) { io.WriteString(c, line) }
		}
		out = append(out, l)
	}
	return out
}

// loopbackAddr reports whether a listener address is reachable only from
// this machine. Plain-text listeners elsewhere require STARTTLS before a
// password may be sent.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

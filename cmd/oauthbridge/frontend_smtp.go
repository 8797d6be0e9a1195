package main

import (
	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/smtpfront"
)

func init() {
	frontEnds["smtp"] = frontEnd{build: newSMTP, refusal: "421 4.7.0 Too many connections, try again later\r\n"}
	// smtpfront runs the implicit handshake itself.
	frontEnds["smtps"] = frontEnd{build: newSMTP, implicit: true}
}

func newSMTP(p frontParams) proxy.Handler {
	return &smtpfront.Server{
		Auth: p.auth, TLSConfig: p.tls, Implicit: p.implicit, RequireTLS: p.requireTLS,
		MaxLine: p.limits.MaxLineBytes, MaxCommands: p.limits.MaxCommands,
		LoginTimeout: p.limits.LoginTimeout, Log: p.log, Observer: p.observer,
	}
}

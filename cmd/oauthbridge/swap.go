package main

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"

	"github.com/oauthbridge/oauthbridge/proxy"
)

// swapHandler is the handler a listener calls for every new connection:
// it serves the connection with the handler current at accept time. A
// reload swaps in a new one; connections already being served keep the
// one they started with until they end.
type swapHandler struct {
	name string
	cur  atomic.Pointer[generation]
}

// ServeConn implements proxy.Handler.
func (h *swapHandler) ServeConn(ctx context.Context, conn net.Conn, s *proxy.Session) {
	g := h.cur.Load()
	next := g.handlers[h.name]
	if next == nil {
		// The listener's front end is missing from this build; the
		// listener would not exist then, so this is only a guard.
		return
	}
	next.ServeConn(ctx, conn, s)
}

// certSwitch hands out the current certificate to every TLS handshake
// (implicit TLS on the listeners, STARTTLS in the front ends), so a
// reload changes it for new handshakes only.
type certSwitch struct {
	cur atomic.Pointer[tls.Config]
}

// config returns the stable configuration to give listeners and front
// ends; it asks the switch at each handshake.
func (c *certSwitch) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return c.cur.Load(), nil
		},
	}
}

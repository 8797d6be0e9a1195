package pop3front

import (
	"context"
	"crypto/tls"

	"go.uber.org/zap"
)

// cmdStls switches to TLS (RFC 2595). Anything the client sent after the
// STLS line and before the handshake is thrown away with the old reader:
// it was sent in clear and could be an attacker's injected command that
// would otherwise run inside the encrypted session. A pending USER is
// forgotten for the same reason.
func (c *session) cmdStls(cmd command) bool {
	switch {
	case cmd.Arg != "":
		return c.reply(replyStlsArg)
	case c.ps.TLS:
		return c.reply(replyAlreadyTLS)
	case c.srv.TLSConfig == nil:
		return c.reply(replyNoStls)
	}
	if !c.reply(replyStlsOK) {
		return false
	}
	c.user, c.haveUser = "", false
	return c.handshake()
}

// startImplicitTLS runs the handshake before the greeting (POP3S), unless
// the listener already did.
func (c *session) startImplicitTLS() bool {
	if c.ps.TLS {
		return true
	}
	if c.srv.TLSConfig == nil {
		c.end(resultProtocolError)
		c.log.Error("implicit TLS configured without a certificate")
		return false
	}
	return c.handshake()
}

// handshake wraps the connection in TLS within the pre-login deadline and
// replaces the reader, dropping any bytes read ahead in clear.
func (c *session) handshake() bool {
	tc := tls.Server(c.conn, c.srv.TLSConfig)
	ctx, cancel := context.WithDeadline(c.ctx, c.deadline)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		result := resultProtocolError
		if ctx.Err() != nil && c.ctx.Err() == nil {
			result = resultTimeout
		}
		c.end(result)
		c.log.Info("tls handshake failed", zap.Error(err))
		return false
	}
	c.conn = tc
	c.ps.TLS = true
	c.setReader(tc)
	return true
}

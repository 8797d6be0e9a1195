package smtpfront

import "go.uber.org/zap"

// cmdSTARTTLS upgrades the connection (RFC 3207). Anything the client sent
// after the command in clear text is discarded, not executed under TLS,
// and the client must greet again: the session starts over.
func (c *conn) cmdSTARTTLS(arg string) step {
	switch {
	case c.sess.TLS:
		c.send("503 5.5.1 TLS already active\r\n")
		return stepNext
	case c.srv.TLSConfig == nil:
		c.send("502 5.5.1 STARTTLS not available\r\n")
		return stepNext
	case arg != "":
		c.send("501 5.5.4 Syntax: STARTTLS\r\n")
		return stepNext
	}
	c.send("220 2.0.0 Ready to start TLS\r\n")
	if c.werr != nil {
		return stepClose
	}
	if n := c.br.Buffered(); n > 0 {
		c.log.Info("discarded clear-text bytes pipelined after STARTTLS", zap.Int("bytes", n))
	}
	// The buffered reader is replaced, which discards what it held.
	if !c.handshake() {
		return stepClose
	}
	c.helo, c.ehlo = "", false
	return stepNext
}

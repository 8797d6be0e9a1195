package pop3front

import "strings"

// capabilities returns the CAPA list for the connection's current state
// (RFC 2449). USER and SASL are left out where logins are refused for
// want of TLS, and STLS appears only where it can be used, so a client
// re-reading CAPA after STLS sees the change.
//
// TOP and UIDL are not announced: they belong to the upstream's
// TRANSACTION state, and RFC 2449 lets a client ask again after login,
// when CAPA is answered by the upstream itself.
func (c *session) capabilities() []string {
	var caps []string
	if c.loginAllowed() {
		caps = append(caps, "USER", "SASL PLAIN LOGIN")
	}
	if c.stlsAvailable() {
		caps = append(caps, "STLS")
	}
	return append(caps,
		"PIPELINING",
		"RESP-CODES",
		"AUTH-RESP-CODE",
		"IMPLEMENTATION oauthbridge",
	)
}

func (c *session) cmdCapa(cmd command) bool {
	var b strings.Builder
	b.WriteString("+OK Capability list follows\r\n")
	for _, capa := range c.capabilities() {
		b.WriteString(capa)
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	return c.reply(b.String())
}

// stlsAvailable reports whether STLS may be used now.
func (c *session) stlsAvailable() bool {
	return c.srv.TLSConfig != nil && !c.ps.TLS
}

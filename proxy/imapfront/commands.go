package imapfront

import (
	"context"
	"crypto/tls"
	"strings"

	"go.uber.org/zap"
)

// authenticatedCommands are the IMAP commands that exist but need a login
// first; they get a clearer answer than an unknown command.
var authenticatedCommands = map[string]bool{
	"SELECT": true, "EXAMINE": true, "CREATE": true, "DELETE": true, "RENAME": true,
	"SUBSCRIBE": true, "UNSUBSCRIBE": true, "LIST": true, "LSUB": true, "STATUS": true,
	"APPEND": true, "CHECK": true, "CLOSE": true, "UNSELECT": true, "EXPUNGE": true,
	"SEARCH": true, "FETCH": true, "STORE": true, "COPY": true, "MOVE": true, "UID": true,
	"ENABLE": true, "IDLE": true, "NAMESPACE": true, "GETQUOTA": true, "GETQUOTAROOT": true,
	"SETQUOTA": true, "GETACL": true, "SETACL": true, "MYRIGHTS": true, "LISTRIGHTS": true,
	"GETMETADATA": true, "SETMETADATA": true, "COMPRESS": true, "SORT": true, "THREAD": true,
	"ESEARCH": true, "NOTIFY": true, "UNAUTHENTICATE": true,
}

// dispatch runs one parsed command.
func (c *conn) dispatch(cmd *Command) next {
	switch cmd.Name {
	case "CAPABILITY":
		return c.reply("* CAPABILITY "+c.capabilities(), cmd.Tag+" OK CAPABILITY completed")
	case "NOOP":
		return c.reply(cmd.Tag + " OK NOOP completed")
	case "LOGOUT":
		c.setResult("logout")
		c.send("* BYE Logging out", cmd.Tag+" OK LOGOUT completed")
		return hangUp
	case "ID":
		c.logID(cmd.Args)
		return c.reply(`* ID ("name" "oauthbridge")`, cmd.Tag+" OK ID completed")
	case "STARTTLS":
		return c.startTLS(cmd.Tag)
	case "LOGIN":
		return c.cmdLogin(cmd)
	case "AUTHENTICATE":
		return c.cmdAuthenticate(cmd)
	}
	if authenticatedCommands[cmd.Name] {
		return c.bad(cmd.Tag, "CLIENTBUG", cmd.Name+" not allowed before login")
	}
	return c.bad(cmd.Tag, "", "Unknown command "+printable(truncate(cmd.Name, 32)))
}

// capabilities lists what the client may use now: STARTTLS only while it
// can still happen, and no login at all when the policy wants TLS first.
func (c *conn) capabilities() string {
	caps := []string{"IMAP4rev1", "SASL-IR", "ID", "LITERAL+"}
	if c.srv.startTLSOffered(c) {
		caps = append(caps, "STARTTLS")
	}
	if c.srv.loginAllowed(c) {
		caps = append(caps, "AUTH=PLAIN", "AUTH=LOGIN")
	} else {
		caps = append(caps, "LOGINDISABLED")
	}
	return strings.Join(caps, " ")
}

// logID records the client's self-description, which helps support.
func (c *conn) logID(args []string) {
	var fields []zap.Field
	for i := 0; i+1 < len(args) && len(fields) < 4; i += 2 {
		switch strings.ToLower(args[i]) {
		case "name", "version", "os", "vendor":
			fields = append(fields, zap.String("client_"+strings.ToLower(args[i]), truncate(args[i+1], 64)))
		}
	}
	c.log.Debug("imap client id", fields...)
}

// startTLS upgrades the connection. Anything the client sent after the
// STARTTLS line was sent in clear text and may have been injected by an
// attacker in the path, so it is thrown away before the handshake.
func (c *conn) startTLS(tag string) next {
	if !c.srv.startTLSOffered(c) {
		return c.bad(tag, "", "STARTTLS not available")
	}
	if n := c.br.Buffered(); n > 0 {
		c.log.Warn("discarding bytes pipelined after STARTTLS", zap.Int("bytes", n))
		c.br.Discard(n)
	}
	if c.reply(tag+" OK Begin TLS negotiation now") == hangUp {
		return hangUp
	}
	tc := tls.Server(c.nc, c.srv.TLSConfig)
	ctx, cancel := context.WithDeadline(c.ctx, c.deadline)
	defer cancel()
	c.nc.SetWriteDeadline(c.deadline)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.log.Info("client TLS handshake failed", zap.Error(err))
		c.setResult("client_tls")
		return hangUp
	}
	c.nc, c.tls, c.s.TLS = tc, true, true
	c.setReader(tc)
	return proceed
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// printable keeps client bytes echoed in a reply to printable ASCII.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
}

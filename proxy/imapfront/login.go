package imapfront

import (
	"errors"
	"unicode/utf8"

	"github.com/oauthbridge/oauthbridge/proxy/lineio"
	"github.com/oauthbridge/oauthbridge/proxy/saslmech"
)

// cmdLogin runs LOGIN user password.
func (c *conn) cmdLogin(cmd *Command) next {
	if !c.srv.loginAllowed(c) {
		return c.privacyRequired(cmd.Tag)
	}
	return c.login(cmd.Tag, fromLatin1(cmd.Args[0]), fromLatin1(cmd.Args[1]))
}

// fromLatin1 returns s as UTF-8. LOGIN has no charset: Thunderbird sends a
// non-ASCII password there as Latin-1 bytes (ü = 0xFC), while its
// AUTHENTICATE PLAIN sends UTF-8 (RFC 4616). Without this the same
// password would arrive in two encodings and the local password check,
// which works on UTF-8, would fail for one of them. Latin-1 text that
// happens to be valid UTF-8 is vanishingly rare for real passwords.
func fromLatin1(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// cmdAuthenticate runs AUTHENTICATE PLAIN or LOGIN, with or without an
// initial response (RFC 4959), and then the same login as LOGIN.
func (c *conn) cmdAuthenticate(cmd *Command) next {
	if !c.srv.loginAllowed(c) {
		return c.privacyRequired(cmd.Tag)
	}
	var ir []byte
	if len(cmd.Args) == 2 {
		var err error
		if ir, err = saslmech.DecodeResponse(cmd.Args[1]); err != nil {
			return c.saslFailed(cmd.Tag, err)
		}
	}
	creds, err := saslmech.Collect(cmd.Args[0], ir, exchange{c})
	if err != nil {
		return c.saslFailed(cmd.Tag, err)
	}
	return c.login(cmd.Tag, creds.Username, creds.Password)
}

// saslFailed answers a SASL dialogue that did not yield credentials.
func (c *conn) saslFailed(tag string, err error) next {
	switch {
	case errors.Is(err, saslmech.ErrCanceled):
		return c.reply(tag + " BAD AUTHENTICATE cancelled")
	case errors.Is(err, saslmech.ErrBadBase64):
		return c.reply(tag + " BAD Invalid base64 data")
	case errors.Is(err, saslmech.ErrUnsupported):
		return c.reply(tag + " NO [CANNOT] Unsupported authentication mechanism")
	case errors.Is(err, saslmech.ErrBadAuthzid):
		return c.reply(tag + " NO [AUTHORIZATIONFAILED] Authorization identity must be empty or equal the user name")
	case errors.Is(err, saslmech.ErrMalformed):
		return c.reply(tag + " BAD Malformed authentication data")
	case errors.Is(err, lineio.ErrTooLong) && !errors.Is(err, lineio.ErrDrop):
		return c.reply(tag + " BAD [TOOBIG] Response too long")
	}
	return c.readFailed(err)
}

func (c *conn) privacyRequired(tag string) next {
	return c.reply(tag + " NO [PRIVACYREQUIRED] TLS is required to log in, use STARTTLS")
}

// exchange frames the SASL dialogue in IMAP: "+ challenge" and a bare
// response line.
type exchange struct{ c *conn }

func (e exchange) Challenge(encoded string) error {
	return e.c.send("+ " + encoded)
}

func (e exchange) Response() (string, error) {
	line, err := e.c.lines.ReadLine()
	if err != nil {
		return "", err
	}
	return string(line), nil
}

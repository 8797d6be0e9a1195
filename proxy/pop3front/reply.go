package pop3front

import (
	"errors"
	"strings"
)

// The fixed replies of the pre-login dialogue. Texts say what to do next,
// because a human reading a client's protocol log is their only reader.
const (
	replyGreeting       = "+OK oauthbridge ready\r\n"
	replyBye            = "+OK oauthbridge closing connection\r\n"
	replyUnknown        = "-ERR Unknown command\r\n"
	replyNotLoggedIn    = "-ERR Not logged in; log in with USER and PASS or AUTH first\r\n"
	replyNoApop         = "-ERR APOP is not supported; use USER/PASS or AUTH\r\n"
	replyTooMany        = "-ERR Too many commands before login, closing connection\r\n"
	replyTimeout        = "-ERR Disconnected for inactivity\r\n"
	replyLineTooLong    = "-ERR Line too long\r\n"
	replyLineTooLongBye = "-ERR Line too long, closing connection\r\n"
	replyEmpty          = "-ERR Empty command\r\n"
	replyBadVerb        = "-ERR Malformed command\r\n"
	replyBadByte        = "-ERR Control characters are not allowed in commands\r\n"
	replyNeedTLS        = "-ERR [SYS/PERM] TLS required: use STLS before logging in\r\n"
	replyNoUser         = "-ERR Missing user name\r\n"
	replyNoPass         = "-ERR Missing password\r\n"
	replyPassFirst      = "-ERR Send USER first\r\n"
	replyUserOK         = "+OK Send PASS\r\n"
	replyLoggedIn       = "+OK Logged in\r\n"
	replyMechList       = "+OK Supported mechanisms follow\r\nPLAIN\r\nLOGIN\r\n.\r\n"
	replyAuthSyntax     = "-ERR Syntax: AUTH mechanism [initial-response]\r\n"
	replyNoMech         = "-ERR Unsupported authentication mechanism; use PLAIN or LOGIN\r\n"
	replyCanceled       = "-ERR Authentication canceled\r\n"
	replyBadBase64      = "-ERR Invalid base64 in authentication data\r\n"
	replyMalformed      = "-ERR Malformed authentication data\r\n"
	replyBadAuthzid     = "-ERR [AUTH] Authorization identity must be empty or equal the user name\r\n"
	replyStlsOK         = "+OK Begin TLS negotiation\r\n"
	replyNoStls         = "-ERR STLS is not available on this port\r\n"
	replyAlreadyTLS     = "-ERR Already using TLS\r\n"
	replyStlsArg        = "-ERR STLS takes no argument\r\n"
)

func replyForParseError(err error) string {
	switch {
	case errors.Is(err, errEmpty):
		return replyEmpty
	case errors.Is(err, errBadByte):
		return replyBadByte
	default:
		return replyBadVerb
	}
}

// maxText bounds a text from elsewhere (a consent message, a hint, an
// upstream's reply) inside one reply line. RFC 2449 allows 512 octets per
// reply line; a consent link is kept whole up to this generous bound
// rather than cut in the middle.
const maxText = 1000

// oneLine makes text safe inside a reply line: control characters become
// spaces (no CRLF injection), and it is cut to maxText bytes.
func oneLine(text string) string {
	text = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, text)
	text = strings.TrimSpace(text)
	if len(text) > maxText {
		text = strings.ToValidUTF8(text[:maxText], "")
	}
	return text
}

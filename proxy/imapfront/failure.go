package imapfront

import (
	"errors"
	"strings"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// failure is a failed login as the client sees it: a response code, text
// for the user, and the session result for the summary log line.
type failure struct {
	code, text string
}

func (f failure) reply() string {
	return "[" + f.code + "] " + f.text
}

// maxReplyText bounds text taken from elsewhere (a consent message, an
// upstream server's words) before it goes into a response line.
const maxReplyText = 1000

// classify maps an error from Authenticate or LoginUpstream to the reply.
// grant is nil when Authenticate itself failed.
func classify(err error, grant *login.Grant) failure {
	if f, ok := classifyLogin(err); ok {
		return f
	}
	addr := "mail server"
	if grant != nil {
		addr = "Mail server " + grant.Upstream.Addr
	}
	return classifyUpstream(err, addr)
}

func classifyLogin(err error) (failure, bool) {
	var ce *login.ConsentError
	switch {
	case errors.As(err, &ce):
		// Thunderbird and Outlook show an ALERT to the user: the way to
		// deliver the consent link.
		return failure{"ALERT", clean(ce.Message)}, true
	case errors.Is(err, login.ErrBadCredentials):
		return failure{"AUTHENTICATIONFAILED", "Invalid user name or password"}, true
	case errors.Is(err, login.ErrThrottled):
		// UNAVAILABLE rather than AUTHENTICATIONFAILED: the password may be
		// right, and clients should not ask the user for a new one.
		return failure{"UNAVAILABLE", "Too many failed logins, try again later"}, true
	case errors.Is(err, login.ErrTemporary):
		return failure{"UNAVAILABLE", "Temporary failure at the identity provider, try again later"}, true
	case errors.Is(err, login.ErrNoProtocol):
		return failure{"UNAVAILABLE", "No IMAP server is configured for this account"}, true
	}
	return failure{}, false
}

func classifyUpstream(err error, addr string) failure {
	var ue *UpstreamError
	detail := ""
	if errors.As(err, &ue) {
		detail = ue.detail()
	}
	switch {
	case errors.Is(err, upstream.ErrRejected):
		return failure{"AUTHENTICATIONFAILED", addr + " refused the access token" + detail}
	case errors.Is(err, upstream.ErrTLS):
		return failure{"UNAVAILABLE", "TLS verification of " + lowerFirst(addr) + " failed" + detail}
	case errors.Is(err, upstream.ErrUnreachable):
		return failure{"UNAVAILABLE", addr + " unreachable"}
	case errors.Is(err, upstream.ErrUnavailable):
		return failure{"UNAVAILABLE", addr + " temporarily unavailable" + detail}
	case errors.Is(err, upstream.ErrProtocol):
		return failure{"UNAVAILABLE", "Unexpected reply from " + lowerFirst(addr) + detail}
	}
	return failure{"UNAVAILABLE", "Internal error, try again later"}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// clean makes foreign text safe for one response line: no control
// characters (a CR or LF would let it forge responses), bounded length.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxReplyText {
		s = strings.ToValidUTF8(s[:maxReplyText], "")
	}
	return strings.TrimSpace(s)
}

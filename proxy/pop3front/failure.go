package pop3front

import (
	"errors"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// failure is how one failed login is answered and recorded.
type failure struct {
	reply string // the complete "-ERR" line
}

// Replies for failed logins (RFC 3206). [AUTH] tells the client that the
// credentials are at fault, so it may ask the user; [SYS/TEMP] tells it to
// keep the password and try later.
const (
	replyBadCredentials = "-ERR [AUTH] Invalid user name or password\r\n"
	replyThrottled      = "-ERR [SYS/TEMP] Too many failed logins; try again later\r\n"
	replyIdPDown        = "-ERR [SYS/TEMP] The identity provider could not be reached; try again later\r\n"
	replyNoPOP3         = "-ERR [SYS/PERM] POP3 is not available for this account\r\n"
	replyRefused        = "-ERR [AUTH] Mail server refused the access token; authorise oauthbridge again or ask the administrator\r\n"
	replyUnreachable    = "-ERR [SYS/TEMP] The mail server could not be reached; try again later\r\n"
	replyUpstreamTLS    = "-ERR [SYS/TEMP] The mail server's TLS certificate could not be verified; tell the administrator\r\n"
	replyUnavailable    = "-ERR [SYS/TEMP] The mail server is temporarily unavailable; try again later\r\n"
	replyUpstreamOdd    = "-ERR [SYS/TEMP] The mail server refused the login; tell the administrator\r\n"
	replyInternal       = "-ERR [SYS/TEMP] Internal error; try again later\r\n"
)

// loginFailure maps an error from Authenticate or the upstream login to
// the reply and the recorded result. Throttling is [SYS/TEMP], not [AUTH]:
// it may hit a user whose password is right (another source failed), and
// [AUTH] would make the client ask for a new password.
func loginFailure(err error) failure {
	var consent *login.ConsentError
	switch {
	case errors.As(err, &consent):
		return failure{"-ERR [AUTH] " + oneLine(consent.Message) + "\r\n"}
	case errors.Is(err, login.ErrBadCredentials):
		return failure{replyBadCredentials}
	case errors.Is(err, login.ErrThrottled):
		return failure{replyThrottled}
	case errors.Is(err, login.ErrNoProtocol):
		return failure{replyNoPOP3}
	case errors.Is(err, login.ErrTemporary):
		return failure{replyIdPDown}
	}
	return upstreamFailure(err)
}

// upstreamFailure maps the errors of LoginUpstream. A temporary refusal
// carries the server's own text when it has one (Microsoft's throttling
// reply says how long to back off), already scrubbed of secrets.
func upstreamFailure(err error) failure {
	switch {
	case errors.Is(err, upstream.ErrRejected):
		return failure{replyRefused}
	case errors.Is(err, upstream.ErrUnreachable):
		return failure{replyUnreachable}
	case errors.Is(err, upstream.ErrTLS):
		return failure{replyUpstreamTLS}
	case errors.Is(err, upstream.ErrUnavailable):
		return failure{withServerText(replyUnavailable, err)}
	case errors.Is(err, upstream.ErrProtocol):
		return failure{withServerText(replyUpstreamOdd, err)}
	}
	return failure{replyInternal}
}

// withServerText appends the upstream's reply text to reply, if any.
func withServerText(reply string, err error) string {
	var re *ReplyError
	if !errors.As(err, &re) || re.Text == "" {
		return reply
	}
	base := reply[:len(reply)-2]
	return base + " (mail server said: " + oneLine(re.Text) + ")\r\n"
}

package login

import (
	"errors"
	"net"

	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// Outcome names the result of a login for logs, metrics and
// proxy.Session.Result, with a small, fixed set of values so that it can be
// a metric label. Every front end uses it, so one failure has one name
// whatever the protocol.
func Outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrBadCredentials):
		return "bad_credentials"
	case errors.Is(err, ErrThrottled):
		return "throttled"
	case errors.Is(err, ErrNeedsConsent):
		return "needs_consent"
	case errors.Is(err, ErrNoProtocol):
		return "no_upstream"
	case errors.Is(err, upstream.ErrRejected):
		return "upstream_refused"
	case errors.Is(err, upstream.ErrTLS):
		return "upstream_tls"
	case errors.Is(err, upstream.ErrUnreachable):
		return "upstream_unreachable"
	case errors.Is(err, upstream.ErrUnavailable):
		return "upstream_unavailable"
	case errors.Is(err, upstream.ErrProtocol):
		return "upstream_protocol"
	case errors.Is(err, ErrTemporary):
		return "temporary"
	default:
		return "internal_error"
	}
}

// safeReason returns err for logging. Every error built on the login path
// is secret-free by construction (tokens and passwords are never put into
// error texts); bad credentials carry no further detail worth a field.
func safeReason(err error) error {
	if err == nil || errors.Is(err, ErrBadCredentials) {
		return nil
	}
	return err
}

// addrString prints a possibly nil address.
type addrString struct{ a net.Addr }

func (a addrString) String() string {
	if a.a == nil {
		return ""
	}
	return a.a.String()
}

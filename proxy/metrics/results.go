package metrics

import (
	"errors"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// LoginResults are the values of the result label of
// oauthbridge_logins_total: login.Outcome's names, which the front ends
// also put in their session summary lines. "temporary" is a failure at
// the identity provider (or the store) that may pass.
var LoginResults = []string{
	"ok", "bad_credentials", "throttled", "needs_consent", "temporary", "no_upstream",
	"upstream_refused", "upstream_unreachable", "upstream_unavailable", "upstream_tls",
	"upstream_protocol", "internal_error",
}

// LoginResult maps the error a front end got from a login attempt
// (Authenticate, then the upstream login) to a LoginResults value.
func LoginResult(err error) string { return login.Outcome(err) }

// UpstreamResults are the values of the result label of
// oauthbridge_upstream_login_duration_seconds.
var UpstreamResults = []string{"ok", "refused", "unreachable", "unavailable", "tls", "protocol", "error"}

// upstreamResult maps an upstream login error to an UpstreamResults value.
func upstreamResult(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, upstream.ErrRejected):
		return "refused"
	case errors.Is(err, upstream.ErrTLS):
		return "tls"
	case errors.Is(err, upstream.ErrUnreachable):
		return "unreachable"
	case errors.Is(err, upstream.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, upstream.ErrProtocol):
		return "protocol"
	}
	return "error"
}

// RefreshResults are the values of the result label of the token refresh
// metrics: the broker's own names for how a refresh ended, "other" for
// any it may add later.
var RefreshResults = []string{"refreshed", "reused", "needs_consent", "temporary", "wrong_key", "not_found", "other"}

func refreshResult(how string) string {
	for _, r := range RefreshResults {
		if r == how {
			return how
		}
	}
	return "other"
}

// Protocol maps a listener name to its protocol label: the TLS variants
// share their protocol's label.
func Protocol(listener string) string {
	switch listener {
	case "imap", "imaps":
		return "imap"
	case "pop3", "pop3s":
		return "pop3"
	case "smtp", "smtps":
		return "smtp"
	}
	return "other"
}

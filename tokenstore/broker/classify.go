package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"golang.org/x/oauth2"
)

// refusalCodes are the error codes that mean this user's grant is no good
// any more: retrying cannot help, the user has to consent again. Besides
// RFC 6749's invalid_grant, OpenID Connect's interaction_required,
// consent_required and login_required, which Microsoft answers when
// Conditional Access or MFA wants the user back at the sign-in page.
var refusalCodes = map[string]bool{
	"invalid_grant":        true,
	"interaction_required": true,
	"consent_required":     true,
	"login_required":       true,
}

// clientCodes mean the proxy's own client registration is refused (an
// expired client secret, a disabled app): no user can fix that by
// consenting again, and every grant stays valid once the administrator
// fixes the configuration, so they are temporary for the user and loud
// for the operator.
var clientCodes = map[string]bool{
	"invalid_client":      true,
	"unauthorized_client": true,
}

// clientRefused reports whether err says the proxy's client credentials
// were refused.
func clientRefused(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && clientCodes[re.ErrorCode]
}

// refusedGrant reports whether err is the identity provider refusing the
// grant, as opposed to failing. A 5xx is a failure whatever its body says.
func refusedGrant(err error) bool {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return false
	}
	if re.Response != nil && re.Response.StatusCode >= http.StatusInternalServerError {
		return false
	}
	return refusalCodes[re.ErrorCode] || dexRefusal(re)
}

// dexRefusal recognises how Dex refuses a refresh token it revoked or
// replaced: HTTP 400 invalid_request, "Refresh token is invalid or has
// already been claimed by another client." It is matched narrowly (code
// and wording) because a bare invalid_request may be a passing fault
// that must not cost the user a new consent.
func dexRefusal(re *oauth2.RetrieveError) bool {
	return re.ErrorCode == "invalid_request" &&
		re.Response != nil && re.Response.StatusCode == http.StatusBadRequest &&
		strings.Contains(strings.ToLower(re.ErrorDescription), "refresh token is invalid")
}

// errorCodeSyntax is RFC 6749's error code alphabet, minus the odd
// characters: anything else from the IdP is not repeated.
var errorCodeSyntax = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// describe renders a refresh failure as a short text that is safe to log
// and return: never the response body (which may echo a token), and with
// the given secrets scrubbed from anything else.
func describe(err error, secrets ...string) string {
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re):
		s := "identity provider answered"
		if re.Response != nil {
			s += fmt.Sprintf(" HTTP %d", re.Response.StatusCode)
		}
		if errorCodeSyntax.MatchString(re.ErrorCode) {
			s += " " + re.ErrorCode
		}
		return s
	case errors.Is(err, context.DeadlineExceeded):
		return "identity provider did not answer in time"
	case errors.Is(err, context.Canceled):
		return "refresh cancelled"
	}
	return scrub(err.Error(), secrets...)
}

// scrub replaces every non-empty secret in s.
func scrub(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

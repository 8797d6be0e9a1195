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

// refusalCodes are the RFC 6749 section 5.2 error codes that mean the
// grant (or this client) is no good any more: retrying cannot help, the
// user has to consent again.
var refusalCodes = map[string]bool{
	"invalid_grant":       true,
	"invalid_client":      true,
	"unauthorized_client": true,
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

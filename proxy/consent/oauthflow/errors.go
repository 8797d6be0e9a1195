package oauthflow

import (
	"errors"
	"fmt"

	"golang.org/x/oauth2"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrDenied: the user declined at the provider (access_denied).
	ErrDenied = errors.New("you declined the request at the provider")
	// ErrExpired: the device code or authorization expired before approval.
	ErrExpired = errors.New("the sign-in took too long and expired; start again")
	// ErrStateMismatch: the answer belongs to another attempt (or was forged).
	ErrStateMismatch = errors.New("the address belongs to another sign-in attempt (state mismatch); start again")
	// ErrNoCode: the pasted address carries no authorization code.
	ErrNoCode = errors.New("the pasted address carries no code; copy the whole address of the page the browser ended on")
	// ErrNotRedirect: the pasted text is not an address at all.
	ErrNotRedirect = errors.New("that does not look like the address the browser ended on")
	// ErrNoRefreshToken: the provider granted no refresh token, so
	// oauthbridge could not keep the access.
	ErrNoRefreshToken = errors.New("the provider issued no refresh token (is offline access requested?)")
)

// ProviderError is an error answer from the provider (RFC 6749 section
// 4.1.2.1 and 5.2): its code and description, which are not secret.
type ProviderError struct {
	Code, Description string
}

func (e *ProviderError) Error() string {
	if e.Description == "" {
		return "the provider refused: " + e.Code
	}
	return fmt.Sprintf("the provider refused: %s (%s)", e.Code, e.Description)
}

// Is maps the codes that have a sentinel to it.
func (e *ProviderError) Is(target error) bool {
	switch target {
	case ErrDenied:
		return e.Code == "access_denied"
	case ErrExpired:
		return e.Code == "expired_token"
	}
	return false
}

// Describe turns x/oauth2's errors into the provider's words, dropping
// the response body (which a misbehaving provider might fill with
// anything). Other errors pass through.
func Describe(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	if re.ErrorCode == "" {
		status := "no response"
		if re.Response != nil {
			status = re.Response.Status
		}
		return fmt.Errorf("the provider answered %s", status)
	}
	return &ProviderError{Code: re.ErrorCode, Description: clip(re.ErrorDescription, 200)}
}

// clip bounds a provider-supplied text shown to users and logs.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

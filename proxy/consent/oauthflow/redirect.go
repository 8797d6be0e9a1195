package oauthflow

import (
	"crypto/subtle"
	"net/url"
	"strings"
)

// MaxPasted bounds the pasted text: real redirect addresses are a few
// hundred bytes.
const MaxPasted = 8 << 10

// CodeFromRedirect extracts the authorization code from the address a
// user pasted (the whole address, or just its query) after the provider
// redirected their browser to a loopback redirect URI, and checks that
// its state is the attempt's. An error answer from the provider comes
// back as a *ProviderError. The code is returned only with the right
// state.
func CodeFromRedirect(pasted, state string) (string, error) {
	pasted = strings.TrimSpace(pasted)
	if pasted == "" || len(pasted) > MaxPasted || state == "" {
		return "", ErrNotRedirect
	}
	v, err := url.ParseQuery(queryPart(pasted))
	if err != nil {
		return "", ErrNotRedirect
	}
	if e := v.Get("error"); e != "" {
		return "", &ProviderError{Code: clip(e, 100), Description: clip(v.Get("error_description"), 200)}
	}
	if !v.Has("state") && !v.Has("code") {
		return "", ErrNotRedirect
	}
	if subtle.ConstantTimeCompare([]byte(v.Get("state")), []byte(state)) != 1 {
		return "", ErrStateMismatch
	}
	code := v.Get("code")
	if code == "" {
		return "", ErrNoCode
	}
	return code, nil
}

// queryPart returns the query of an address, or the text itself when it
// is already a bare query ("code=...&state=..." or "?code=...").
func queryPart(s string) string {
	if u, err := url.Parse(s); err == nil && (u.Scheme != "" || u.RawQuery != "") {
		if u.RawQuery == "" && u.Fragment != "" {
			return u.Fragment // response_mode=fragment
		}
		return u.RawQuery
	}
	return strings.TrimPrefix(s, "?")
}

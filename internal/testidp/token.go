package testidp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// Grant type of RFC 8628 section 3.4.
const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// oauthError is an RFC 6749 section 5.2 error answer.
type oauthError struct {
	status int
	code   string
	desc   string
}

func (idp *IdP) handleToken(w http.ResponseWriter, r *http.Request) {
	idp.count(r)
	if !idp.wait(r) {
		return
	}
	clientID, e := idp.authenticateClient(r)
	if e != nil {
		writeError(w, e)
		return
	}
	var tok *oauth2.Token
	switch r.PostForm.Get("grant_type") {
	case "refresh_token":
		tok, e = idp.grantRefresh(r.PostForm.Get("refresh_token"), clientID)
	case "authorization_code":
		tok, e = idp.grantCode(r.PostForm, clientID)
	case deviceGrantType:
		tok, e = idp.grantDevice(r.PostForm.Get("device_code"), clientID)
	default:
		e = &oauthError{http.StatusBadRequest, "unsupported_grant_type", "grant_type not supported"}
	}
	if e != nil {
		writeError(w, e)
		return
	}
	writeToken(w, tok)
}

// count parses the form and counts the request. It runs before anything
// can fail so tests see every attempt.
func (idp *IdP) count(r *http.Request) {
	_ = r.ParseForm()
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.tokenReqs++
	if r.PostForm.Get("grant_type") == "refresh_token" {
		idp.refreshReqs++
	}
}

// wait applies SetDelay; false means the client or the IdP went away.
func (idp *IdP) wait(r *http.Request) bool {
	idp.mu.Lock()
	d := idp.delay
	idp.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-idp.closing:
	}
	return false
}

// authenticateClient accepts HTTP Basic (RFC 6749 section 2.3.1, with the
// form-encoding of id and secret) or client_id/client_secret in the form.
// The public client needs no secret.
func (idp *IdP) authenticateClient(r *http.Request) (string, *oauthError) {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	switch {
	case id == ClientID && secret == idp.ClientSecret:
		return id, nil
	case id == PublicClientID && secret == "":
		return id, nil
	}
	return "", &oauthError{http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret"}
}

func (idp *IdP) grantRefresh(rt, clientID string) (*oauth2.Token, *oauthError) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	tok, ok := idp.useRefreshLocked(rt, clientID)
	if !ok {
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "refresh token is invalid, expired or revoked"}
	}
	return tok, nil
}

func writeToken(w http.ResponseWriter, tok *oauth2.Token) {
	body := map[string]any{
		"access_token": tok.AccessToken,
		"token_type":   tok.TokenType,
		"expires_in":   int(time.Until(tok.Expiry).Round(time.Second).Seconds()),
		"scope":        "openid email offline_access",
	}
	if tok.RefreshToken != "" {
		body["refresh_token"] = tok.RefreshToken
	}
	writeJSON(w, http.StatusOK, body)
}

func writeError(w http.ResponseWriter, e *oauthError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="testidp"`)
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

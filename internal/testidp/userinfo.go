package testidp

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// handleUserinfo answers a valid bearer token (Authorization header, or
// access_token query parameter as Dovecot's tokeninfo_url sends it) with
// the user's identity, and anything else with 401 invalid_token.
func (idp *IdP) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("access_token")
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		tok = h[7:]
	}
	email, ok := idp.Validate(tok)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sub":            Subject(email),
		"email":          email,
		"email_verified": true,
	})
}

// Subject is the stable "sub" the IdP reports for email.
func Subject(email string) string {
	sum := sha256.Sum256([]byte(email))
	return hex.EncodeToString(sum[:8])
}

// handleDiscovery serves the endpoints part of an OpenID Provider
// Metadata document (OpenID Connect Discovery 1.0), so code that
// discovers endpoints from an issuer can be tested. No jwks_uri: the IdP
// issues no ID tokens.
func (idp *IdP) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                idp.URL,
		"authorization_endpoint":                idp.AuthURL(),
		"token_endpoint":                        idp.TokenURL(),
		"device_authorization_endpoint":         idp.DeviceURL(),
		"userinfo_endpoint":                     idp.UserinfoURL(),
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", deviceGrantType},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"scopes_supported":                      []string{"openid", "email", "offline_access"},
	})
}

package testidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// codeTTL is how long an authorization code may wait for its exchange.
const codeTTL = time.Minute

type authCode struct {
	email     string
	clientID  string
	redirect  string
	challenge string // PKCE S256 challenge, "" when the client sent none
	expiry    time.Time
}

// authRequest is the validated query of an authorization request.
type authRequest struct {
	clientID, redirect, state, challenge string
}

// parseAuthRequest checks an authorization request (RFC 6749 section
// 4.1.1, RFC 7636 section 4.3). Only S256 is accepted as PKCE method.
func parseAuthRequest(v url.Values) (*authRequest, error) {
	req := &authRequest{
		clientID:  v.Get("client_id"),
		redirect:  v.Get("redirect_uri"),
		state:     v.Get("state"),
		challenge: v.Get("code_challenge"),
	}
	switch {
	case v.Get("response_type") != "code":
		return nil, errors.New("response_type must be code")
	case req.clientID != ClientID && req.clientID != PublicClientID:
		return nil, errors.New("unknown client_id")
	case req.redirect == "":
		return nil, errors.New("redirect_uri is required")
	case req.challenge != "" && v.Get("code_challenge_method") != "S256":
		return nil, errors.New("code_challenge_method must be S256")
	case req.clientID == PublicClientID && req.challenge == "":
		return nil, errors.New("public clients must use PKCE")
	}
	if _, err := url.Parse(req.redirect); err != nil {
		return nil, errors.New("redirect_uri is not a URL")
	}
	return req, nil
}

// Approve plays the user who consents as email to the authorization
// request in authURL (as built by oauth2.Config.AuthCodeURL), and returns
// the redirect URL carrying code and state, without any HTTP request.
func (idp *IdP) Approve(authURL, email string) (string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", fmt.Errorf("testidp: approve: %w", err)
	}
	req, err := parseAuthRequest(u.Query())
	if err != nil {
		return "", fmt.Errorf("testidp: approve: %w", err)
	}
	return idp.newCode(req, email), nil
}

// newCode stores a fresh code for req and returns the redirect URL.
func (idp *IdP) newCode(req *authRequest, email string) string {
	code := "code-" + randomString(12)
	idp.mu.Lock()
	idp.codes[code] = &authCode{email: email, clientID: req.clientID, redirect: req.redirect,
		challenge: req.challenge, expiry: time.Now().Add(codeTTL)}
	idp.mu.Unlock()
	u, _ := url.Parse(req.redirect) // checked by parseAuthRequest
	q := u.Query()
	q.Set("code", code)
	if req.state != "" {
		q.Set("state", req.state)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

var authForm = template.Must(template.New("auth").Parse(`<!doctype html>
<title>testidp sign-in</title>
<form method="post" action="/auth">
{{range $k, $v := .}}<input type="hidden" name="{{$k}}" value="{{index $v 0}}">
{{end}}<label>Email <input name="email"></label>
<button type="submit">Allow</button>
</form>
`))

// handleAuthForm shows a sign-in form that posts the request back with the
// user's email.
func (idp *IdP) handleAuthForm(w http.ResponseWriter, r *http.Request) {
	if _, err := parseAuthRequest(r.URL.Query()); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = authForm.Execute(w, r.URL.Query())
}

// handleAuthPost approves the request for the posted email and redirects
// to the client (302).
func (idp *IdP) handleAuthPost(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	req, err := parseAuthRequest(r.PostForm)
	email := r.PostForm.Get("email")
	if err == nil && email == "" {
		err = errors.New("email is required")
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, idp.newCode(req, email), http.StatusFound)
}

// grantCode exchanges an authorization code (RFC 6749 section 4.1.3).
// Codes are single-use; the PKCE verifier must match the challenge.
func (idp *IdP) grantCode(v url.Values, clientID string) (*oauth2.Token, *oauthError) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	c := idp.codes[v.Get("code")]
	delete(idp.codes, v.Get("code"))
	bad := func(desc string) (*oauth2.Token, *oauthError) {
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", desc}
	}
	switch {
	case c == nil || time.Now().After(c.expiry):
		return bad("unknown, used or expired code")
	case c.clientID != clientID:
		return bad("code was issued to another client")
	case c.redirect != v.Get("redirect_uri"):
		return bad("redirect_uri does not match")
	case c.challenge != "" && !verifierMatches(v.Get("code_verifier"), c.challenge):
		return bad("PKCE verification failed")
	}
	return idp.mintLocked(c.email, clientID, true), nil
}

// verifierMatches checks BASE64URL(SHA256(verifier)) == challenge.
func verifierMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

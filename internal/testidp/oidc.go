package testidp

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// OIDC is an OpenID Connect face for an IdP: a second server on
// 127.0.0.1 that forwards every request to the IdP and adds what OpenID
// Connect has on top, so code that verifies ID tokens can be tested:
// RS256-signed ID tokens in every token answer (with the nonce of the
// authorization request), a JWKS endpoint at /keys, and a discovery
// document whose issuer is this server's URL. The IdP itself is unchanged
// and stays usable directly.
type OIDC struct {
	// URL is the issuer: http://127.0.0.1:port.
	URL string

	idp   *IdP
	srv   *httptest.Server
	key   *rsa.PrivateKey
	rogue *rsa.PrivateKey // signs forged tokens; never published

	mu     sync.Mutex
	nonces map[string]string // authorization code -> nonce
	forge  bool
	email  map[string]string // real email -> email to claim instead
}

// oidcKeyID names the one published signing key.
const oidcKeyID = "testidp-1"

// NewOIDC starts the OpenID Connect face of idp; it stops with the test.
func NewOIDC(t testing.TB, idp *IdP) *OIDC {
	t.Helper()
	o := &OIDC{idp: idp, key: newRSAKey(t), rogue: newRSAKey(t), nonces: map[string]string{}, email: map[string]string{}}
	o.srv = httptest.NewServer(o.routes())
	o.URL = o.srv.URL
	t.Cleanup(o.srv.Close)
	return o
}

func newRSAKey(t testing.TB) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("testidp: %v", err)
	}
	return k
}

func (o *OIDC) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", o.handleDiscovery)
	mux.HandleFunc("GET /keys", o.handleKeys)
	mux.HandleFunc("POST /token", o.handleToken)
	mux.HandleFunc("POST /auth", o.handleAuthPost)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { o.relay(w, o.forward(w, r, nil)) })
	return mux
}

// Config is the IdP's confidential client configuration with this
// face's endpoints.
func (o *OIDC) Config(redirectURL string, scopes ...string) *oauth2.Config {
	c := o.idp.Config(redirectURL, scopes...)
	c.Endpoint.AuthURL, c.Endpoint.TokenURL, c.Endpoint.DeviceAuthURL = o.URL+"/auth", o.URL+"/token", o.URL+"/device/code"
	return c
}

// UserinfoURL is the userinfo endpoint behind this face.
func (o *OIDC) UserinfoURL() string { return o.URL + "/userinfo" }

// SetForge makes ID tokens from now on be signed with a key the JWKS does
// not publish, as an attacker's would be.
func (o *OIDC) SetForge(forge bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.forge = forge
}

// ClaimEmail makes ID tokens of the user real claim email instead (the
// userinfo endpoint still tells the truth).
func (o *OIDC) ClaimEmail(real, email string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.email[real] = email
}

// Approve is IdP.Approve that also remembers the request's nonce for the
// ID token.
func (o *OIDC) Approve(authURL, email string) (string, error) {
	redirect, err := o.idp.Approve(authURL, email)
	if err != nil {
		return "", err
	}
	o.remember(authURL, redirect)
	return redirect, nil
}

// remember links the code in redirect to the nonce in the request.
func (o *OIDC) remember(authURL, redirect string) {
	req, err1 := url.Parse(authURL)
	back, err2 := url.Parse(redirect)
	if err1 != nil || err2 != nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.nonces[back.Query().Get("code")] = req.Query().Get("nonce")
}

func (o *OIDC) handleDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                o.URL,
		"authorization_endpoint":                o.URL + "/auth",
		"token_endpoint":                        o.URL + "/token",
		"device_authorization_endpoint":         o.URL + "/device/code",
		"userinfo_endpoint":                     o.URL + "/userinfo",
		"jwks_uri":                              o.URL + "/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", deviceGrantType},
	})
}

func (o *OIDC) handleKeys(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &o.key.PublicKey, KeyID: oidcKeyID, Algorithm: string(jose.RS256), Use: "sig"},
	}})
}

// handleAuthPost forwards the sign-in form and notes the nonce of the
// code the IdP redirects with.
func (o *OIDC) handleAuthPost(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	resp := o.forward(w, r, body)
	if resp == nil {
		return
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		form, _ := url.ParseQuery(string(body))
		o.remember("/auth?"+url.Values{"nonce": {form.Get("nonce")}}.Encode(), loc)
	}
	o.relay(w, resp)
}

// handleToken forwards a token request and adds an ID token to a
// successful answer.
func (o *OIDC) handleToken(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	resp := o.forward(w, r, body)
	if resp == nil {
		return
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var answer map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &answer) != nil {
		copyHeader(w, resp)
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(raw)
		return
	}
	form, _ := url.ParseQuery(string(body))
	at, _ := answer["access_token"].(string)
	if email, ok := o.idp.Validate(at); ok {
		answer["id_token"] = o.idToken(email, clientIDOf(r, form), form.Get("code"))
	}
	writeJSON(w, http.StatusOK, answer)
}

func clientIDOf(r *http.Request, form url.Values) string {
	if id, _, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(id)
		return id
	}
	return form.Get("client_id")
}

// idToken signs the claims about email for audience, with the nonce
// remembered for code (if any).
func (o *OIDC) idToken(email, audience, code string) string {
	o.mu.Lock()
	nonce := o.nonces[code]
	delete(o.nonces, code)
	key := o.key
	if o.forge {
		key = o.rogue
	}
	claimed := email
	if e, ok := o.email[email]; ok {
		claimed = e
	}
	o.mu.Unlock()
	now := time.Now()
	claims := map[string]any{"iss": o.URL, "sub": Subject(email), "aud": audience, "email": claimed,
		"email_verified": true, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	payload, _ := json.Marshal(claims)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithHeader("kid", oidcKeyID).WithType("JWT"))
	if err != nil {
		return ""
	}
	sig, err := signer.Sign(payload)
	if err != nil {
		return ""
	}
	s, _ := sig.CompactSerialize()
	return s
}

// forward sends r (with body, if not nil) to the IdP without following
// redirects; on failure it answers 502 and returns nil.
func (o *OIDC) forward(w http.ResponseWriter, r *http.Request, body []byte) *http.Response {
	if body == nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20))
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, o.idp.URL+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return nil
	}
	req.Header = r.Header.Clone()
	c := o.idp.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return nil
	}
	return resp
}

// relay copies an IdP answer to w.
func (o *OIDC) relay(w http.ResponseWriter, resp *http.Response) {
	if resp == nil {
		return
	}
	defer resp.Body.Close()
	copyHeader(w, resp)
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, 1<<20))
}

func copyHeader(w http.ResponseWriter, resp *http.Response) {
	for k, vs := range resp.Header {
		if k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
}

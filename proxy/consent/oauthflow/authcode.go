package oauthflow

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"
)

// AuthRequest is one authorization code attempt. State, Verifier and
// Nonce are secrets of the attempt: keep them server side (or in the
// terminal process) and never put them in a log.
type AuthRequest struct {
	// URL is the authorization address to send the browser to. It carries
	// the state, the PKCE challenge and the nonce, none of which lets
	// anyone redeem the code without the verifier.
	URL string
	// RedirectURL is where the provider sends the browser back; the same
	// value must be used in Exchange.
	RedirectURL string
	// State ties the answer to this attempt (RFC 6749 section 10.12).
	State string
	// Verifier is the PKCE code verifier (RFC 7636 section 4.1).
	Verifier string
	// Nonce ties the ID token to this attempt (OIDC Core section 3.1.2.1).
	Nonce string
}

// NewAuthRequest builds an authorization code request with PKCE S256 for
// oc, whose RedirectURL must be set. loginHint (may be empty) pre-fills
// the account at the provider; extra adds provider-specific parameters
// (prompt=consent, access_type=offline for Google, ...).
func NewAuthRequest(oc *oauth2.Config, loginHint string, extra map[string]string) (*AuthRequest, error) {
	if oc.RedirectURL == "" {
		return nil, fmt.Errorf("oauthflow: no redirect URL configured")
	}
	r := &AuthRequest{RedirectURL: oc.RedirectURL, State: Random(), Verifier: oauth2.GenerateVerifier(), Nonce: Random()}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(r.Verifier), oauth2.SetAuthURLParam("nonce", r.Nonce)}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	for k, v := range extra {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	r.URL = oc.AuthCodeURL(r.State, opts...)
	return r, nil
}

// Exchange redeems code with the attempt's verifier (RFC 6749 section
// 4.1.3, RFC 7636 section 4.5). oc must carry the attempt's redirect URL.
func Exchange(ctx context.Context, oc *oauth2.Config, client *http.Client, code, verifier string) (*oauth2.Token, error) {
	tok, err := oc.Exchange(withClient(ctx, client), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchange the code: %w", Describe(err))
	}
	return checkRefresh(tok)
}

func checkRefresh(tok *oauth2.Token) (*oauth2.Token, error) {
	if tok.RefreshToken == "" {
		return nil, ErrNoRefreshToken
	}
	return tok, nil
}

// withClient makes x/oauth2 use client (timeouts, the provider's CA).
func withClient(ctx context.Context, client *http.Client) context.Context {
	if client == nil {
		return ctx
	}
	return context.WithValue(ctx, oauth2.HTTPClient, client)
}

// Random returns 256 random bits, base64url without padding: for states,
// nonces and tickets.
func Random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails; crypto/rand panics internally
	return base64.RawURLEncoding.EncodeToString(b)
}

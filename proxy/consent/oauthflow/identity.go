package oauthflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Identity errors.
var (
	// ErrNoIdentity: the provider said nothing usable about who signed in
	// (no verifiable ID token naming an address, no userinfo endpoint).
	ErrNoIdentity = errors.New("the provider did not say who signed in")
	// ErrBadIDToken: the ID token failed verification (signature, issuer,
	// audience, expiry or nonce). The grant must be discarded.
	ErrBadIDToken = errors.New("the provider's ID token did not verify")
)

// IdentityConfig says how to learn who signed in at one provider.
type IdentityConfig struct {
	// Issuer is the OpenID Connect issuer. When set, ID tokens are verified
	// with the keys its discovery document names, and their iss must equal
	// it.
	Issuer string
	// JWKSURL, when set, is where the signing keys are (no discovery). Use
	// it for multi-tenant issuers such as Microsoft's "common", whose ID
	// tokens name the user's tenant: the iss claim is then checked only if
	// Issuer is also set.
	JWKSURL string
	// UserinfoURL is asked when there is no ID token or it names no
	// address; empty means the discovered one, if any.
	UserinfoURL string
	// ClientID is the expected audience of ID tokens.
	ClientID string
	// HTTPClient talks to the provider; it must have a timeout. nil means
	// a client with a 30 s timeout.
	HTTPClient *http.Client
}

// discoveryRetry is the least time between two failed key discoveries.
const discoveryRetry = 10 * time.Second

// IdentityVerifier finds out who granted a token. It caches the issuer's
// discovery and keys; it is safe for concurrent use.
type IdentityVerifier struct {
	cfg IdentityConfig

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	userinfo string
	lastErr  error
	lastTry  time.Time
}

// NewIdentityVerifier returns a verifier for one provider.
func NewIdentityVerifier(cfg IdentityConfig) *IdentityVerifier {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &IdentityVerifier{cfg: cfg}
}

// Identity returns the mail address of the user who granted tok. nonce,
// when not empty, must be the ID token's nonce (authorization code flow);
// the device flow has none. An ID token that fails verification is an
// error, never a reason to fall back to userinfo.
func (v *IdentityVerifier) Identity(ctx context.Context, tok *oauth2.Token, nonce string) (string, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw != "" && v.canVerify() {
		c, err := v.verifyIDToken(ctx, raw, nonce)
		if err != nil {
			return "", err
		}
		if a := c.address(); a != "" {
			return a, nil
		}
	}
	endpoint, err := v.userinfoURL(ctx)
	if err != nil {
		return "", err
	}
	if endpoint == "" {
		return "", ErrNoIdentity
	}
	return v.fromUserinfo(ctx, endpoint, tok)
}

func (v *IdentityVerifier) canVerify() bool { return v.cfg.Issuer != "" || v.cfg.JWKSURL != "" }

// verifyIDToken checks signature, issuer, audience, expiry and nonce.
func (v *IdentityVerifier) verifyIDToken(ctx context.Context, raw, nonce string) (claims, error) {
	ver, err := v.idTokenVerifier(ctx)
	if err != nil {
		return claims{}, err
	}
	idt, err := ver.Verify(ctx, raw)
	if err != nil {
		return claims{}, fmt.Errorf("%w: %v", ErrBadIDToken, err)
	}
	if nonce != "" && idt.Nonce != nonce {
		return claims{}, fmt.Errorf("%w: nonce does not match this sign-in", ErrBadIDToken)
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return claims{}, fmt.Errorf("%w: claims: %v", ErrBadIDToken, err)
	}
	return c, nil
}

// idTokenVerifier builds (once) the go-oidc verifier, from discovery or
// from the configured key set.
func (v *IdentityVerifier) idTokenVerifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.verifier != nil {
		return v.verifier, nil
	}
	if v.lastErr != nil && time.Since(v.lastTry) < discoveryRetry {
		return nil, v.lastErr
	}
	v.lastTry = time.Now()
	octx := oidc.ClientContext(ctx, v.cfg.HTTPClient)
	conf := &oidc.Config{ClientID: v.cfg.ClientID}
	if v.cfg.JWKSURL != "" {
		conf.SkipIssuerCheck = v.cfg.Issuer == ""
		v.verifier = oidc.NewVerifier(v.cfg.Issuer, oidc.NewRemoteKeySet(octx, v.cfg.JWKSURL), conf)
		return v.verifier, nil
	}
	p, err := oidc.NewProvider(octx, v.cfg.Issuer)
	if err != nil {
		v.lastErr = fmt.Errorf("discover the signing keys of %s: %w", v.cfg.Issuer, err)
		return nil, v.lastErr
	}
	v.verifier, v.userinfo, v.lastErr = p.VerifierContext(octx, conf), p.UserInfoEndpoint(), nil
	return v.verifier, nil
}

// userinfoURL is the configured endpoint, else the discovered one.
func (v *IdentityVerifier) userinfoURL(ctx context.Context) (string, error) {
	if v.cfg.UserinfoURL != "" || v.cfg.Issuer == "" {
		return v.cfg.UserinfoURL, nil
	}
	if _, err := v.idTokenVerifier(ctx); err != nil {
		return "", err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.userinfo, nil
}

func (v *IdentityVerifier) fromUserinfo(ctx context.Context, endpoint string, tok *oauth2.Token) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return "", fmt.Errorf("userinfo: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("userinfo: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("userinfo: %s", resp.Status)
	}
	var c claims
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&c); err != nil {
		return "", fmt.Errorf("userinfo: %w", err)
	}
	if a := c.address(); a != "" {
		return a, nil
	}
	return "", ErrNoIdentity
}

// claims are the ID token and userinfo fields that name the user's
// mailbox. Microsoft work accounts often have no email claim; their
// preferred_username (the UPN) names the mailbox.
type claims struct {
	Email             string `json:"email"`
	EmailVerified     *bool  `json:"email_verified"`
	PreferredUsername string `json:"preferred_username"`
	UPN               string `json:"upn"`
}

// address is the first claim that looks like an address. An email the
// provider itself marks as unverified is not taken: anyone can type one.
func (c claims) address() string {
	email := c.Email
	if c.EmailVerified != nil && !*c.EmailVerified {
		email = ""
	}
	for _, s := range []string{email, c.PreferredUsername, c.UPN} {
		if strings.Contains(s, "@") {
			return s
		}
	}
	return ""
}

// Matches reports whether the identity the provider reported is the
// account or one of the names accepted for it, compared without regard
// to case (mail providers treat addresses so).
func Matches(identity, account string, aliases ...string) bool {
	identity = strings.TrimSpace(identity)
	if identity == "" {
		return false
	}
	for _, a := range append([]string{account}, aliases...) {
		if a != "" && strings.EqualFold(identity, strings.TrimSpace(a)) {
			return true
		}
	}
	return false
}

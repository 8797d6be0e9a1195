package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
)

// ErrNoIdentity means the IdP said nothing about who consented: no ID
// token with an address and no userinfo endpoint.
var ErrNoIdentity = errors.New("the identity provider did not say who signed in")

// claims are the ID token / userinfo fields that carry the user's address.
// Microsoft work accounts often have no email claim; preferred_username
// (the UPN) then names the mailbox.
type claims struct {
	Email             string `json:"email"`
	PreferredUsername string `json:"preferred_username"`
	UPN               string `json:"upn"`
}

func (c claims) address() string {
	for _, v := range []string{c.Email, c.PreferredUsername, c.UPN} {
		if strings.Contains(v, "@") {
			return v
		}
	}
	return ""
}

// Identity returns the mail address of the user who granted tok: from the
// ID token that came with it when there is one, otherwise from the
// userinfo endpoint. The ID token's signature is not checked: it came
// straight from the token endpoint over a verified TLS connection, which
// OpenID Connect Core 1.0 section 3.1.3.7 accepts in place of a signature
// check.
func (p *Provider) Identity(ctx context.Context, tok *oauth2.Token) (string, error) {
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		c, err := idTokenClaims(raw)
		if err != nil {
			return "", err
		}
		if a := c.address(); a != "" {
			return a, nil
		}
	}
	eps, err := p.Endpoints(ctx)
	if err != nil {
		return "", err
	}
	if eps.UserinfoURL == "" {
		return "", ErrNoIdentity
	}
	return p.userinfo(ctx, eps.UserinfoURL, tok)
}

// idTokenClaims decodes the payload of a JWS compact serialisation.
func idTokenClaims(raw string) (claims, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return claims{}, errors.New("malformed ID token")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return claims{}, errors.New("malformed ID token payload")
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return claims{}, errors.New("malformed ID token claims")
	}
	return c, nil
}

func (p *Provider) userinfo(ctx context.Context, endpoint string, tok *oauth2.Token) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return "", fmt.Errorf("userinfo: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := p.HTTPClient.Do(req)
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

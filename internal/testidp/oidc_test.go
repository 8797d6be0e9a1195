package testidp_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
)

// TestOIDCIDTokens: the OpenID Connect face issues ID tokens that verify
// with its published keys and carry the request's nonce, and forged ones
// that do not verify.
func TestOIDCIDTokens(t *testing.T) {
	idp := testidp.New(t)
	o := testidp.NewOIDC(t, idp)
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, o.URL)
	if err != nil {
		t.Fatal(err)
	}
	ver := p.Verifier(&oidc.Config{ClientID: testidp.ClientID})
	oc := o.Config("http://127.0.0.1/cb", "openid", "email")
	exchange := func() string {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		auth := oc.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n-1"))
		back, err := o.Approve(auth, "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(back)
		tok, err := oc.Exchange(context.WithValue(ctx, oauth2.HTTPClient, idp.Client()), u.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tok.Extra("id_token").(string)
		return raw
	}
	idt, err := ver.Verify(ctx, exchange())
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Email string }
	if err := idt.Claims(&c); err != nil || c.Email != "alice@example.com" || idt.Nonce != "n-1" {
		t.Fatalf("claims %+v nonce %q (%v)", c, idt.Nonce, err)
	}
	o.SetForge(true)
	if _, err := ver.Verify(ctx, exchange()); err == nil {
		t.Fatal("a forged ID token verified")
	}
}

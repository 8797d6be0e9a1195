package oauthflow

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
)

// codeToken runs the authorization code flow against o as email and
// returns the token answer (with its ID token) and the nonce sent.
func codeToken(t *testing.T, idp *testidp.IdP, o *testidp.OIDC, email string) (*oauth2.Token, string) {
	t.Helper()
	oc := o.Config("http://127.0.0.1/cb", "openid", "email", "offline_access")
	req, err := NewAuthRequest(oc, email, map[string]string{"prompt": "consent"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := o.Approve(req.URL, email)
	if err != nil {
		t.Fatal(err)
	}
	code, err := CodeFromRedirect(back, req.State)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Exchange(context.Background(), oc, idp.Client(), code, req.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	return tok, req.Nonce
}

func TestIdentityFromIDToken(t *testing.T) {
	idp := testidp.New(t)
	o := testidp.NewOIDC(t, idp)
	v := NewIdentityVerifier(IdentityConfig{Issuer: o.URL, ClientID: testidp.ClientID, HTTPClient: idp.Client()})
	tok, nonce := codeToken(t, idp, o, "alice@example.com")
	if got, err := v.Identity(context.Background(), tok, nonce); err != nil || got != "alice@example.com" {
		t.Fatalf("Identity = %q, %v", got, err)
	}
	if _, err := v.Identity(context.Background(), tok, "another-nonce"); !errors.Is(err, ErrBadIDToken) {
		t.Fatalf("nonce mismatch: err = %v", err)
	}
	wrongAud := NewIdentityVerifier(IdentityConfig{Issuer: o.URL, ClientID: "someone-else", HTTPClient: idp.Client()})
	if _, err := wrongAud.Identity(context.Background(), tok, nonce); !errors.Is(err, ErrBadIDToken) {
		t.Fatalf("audience mismatch: err = %v", err)
	}
	o.SetForge(true)
	forged, nonce := codeToken(t, idp, o, "alice@example.com")
	if _, err := v.Identity(context.Background(), forged, nonce); !errors.Is(err, ErrBadIDToken) {
		t.Fatalf("forged signature: err = %v", err)
	}
}

// TestIdentityFromJWKS: with only a key set URL (Microsoft's multi-tenant
// case) the signature and audience are still checked.
func TestIdentityFromJWKS(t *testing.T) {
	idp := testidp.New(t)
	o := testidp.NewOIDC(t, idp)
	v := NewIdentityVerifier(IdentityConfig{JWKSURL: o.URL + "/keys", ClientID: testidp.ClientID, HTTPClient: idp.Client()})
	tok, nonce := codeToken(t, idp, o, "bob@example.com")
	if got, err := v.Identity(context.Background(), tok, nonce); err != nil || got != "bob@example.com" {
		t.Fatalf("Identity = %q, %v", got, err)
	}
	o.SetForge(true)
	forged, nonce := codeToken(t, idp, o, "bob@example.com")
	if _, err := v.Identity(context.Background(), forged, nonce); !errors.Is(err, ErrBadIDToken) {
		t.Fatalf("forged signature: err = %v", err)
	}
}

// TestIdentityFromUserinfo: without an issuer to verify against, an ID
// token is not trusted and userinfo names the user; without userinfo
// either, there is no identity.
func TestIdentityFromUserinfo(t *testing.T) {
	idp := testidp.New(t)
	o := testidp.NewOIDC(t, idp)
	o.ClaimEmail("carol@example.com", "mallory@example.com") // a lying, unverifiable ID token
	tok, _ := codeToken(t, idp, o, "carol@example.com")
	v := NewIdentityVerifier(IdentityConfig{UserinfoURL: idp.UserinfoURL(), HTTPClient: idp.Client()})
	if got, err := v.Identity(context.Background(), tok, ""); err != nil || got != "carol@example.com" {
		t.Fatalf("Identity = %q, %v", got, err)
	}
	none := NewIdentityVerifier(IdentityConfig{HTTPClient: idp.Client()})
	if _, err := none.Identity(context.Background(), tok, ""); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("no source: err = %v", err)
	}
	bad := &oauth2.Token{AccessToken: "not-a-token"}
	if _, err := v.Identity(context.Background(), bad, ""); err == nil || strings.Contains(err.Error(), bad.AccessToken) {
		t.Fatalf("unknown token: err = %v (must fail without naming the token)", err)
	}
}

func TestClaimsAddress(t *testing.T) {
	no, yes := false, true
	for _, tc := range []struct {
		c    claims
		want string
	}{
		{claims{Email: "a@x", EmailVerified: &yes}, "a@x"},
		{claims{Email: "a@x"}, "a@x"},
		{claims{Email: "a@x", EmailVerified: &no}, ""},
		{claims{Email: "a@x", EmailVerified: &no, PreferredUsername: "b@y"}, "b@y"},
		{claims{PreferredUsername: "not-an-address", UPN: "c@z"}, "c@z"},
	} {
		if got := tc.c.address(); got != tc.want {
			t.Errorf("%+v: address %q, want %q", tc.c, got, tc.want)
		}
	}
}

// TestDeviceFlow drives StartDevice and PollDevice against the IdP.
func TestDeviceFlow(t *testing.T) {
	idp := testidp.New(t)
	oc := idp.Config("", "openid", "email", "offline_access")
	ctx := context.Background()
	da, err := StartDevice(ctx, oc, idp.Client())
	if err != nil {
		t.Fatal(err)
	}
	if err := idp.ApproveDevice(da.UserCode, "dave@example.com"); err != nil {
		t.Fatal(err)
	}
	tok, err := PollDevice(ctx, oc, idp.Client(), da)
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("PollDevice: %v", err)
	}
	da, _ = StartDevice(ctx, oc, idp.Client())
	_ = idp.DenyDevice(da.UserCode)
	if _, err := PollDevice(ctx, oc, idp.Client(), da); !errors.Is(err, ErrDenied) {
		t.Fatalf("denied: err = %v", err)
	}
	noDevice := *oc
	noDevice.Endpoint.DeviceAuthURL = ""
	if _, err := StartDevice(ctx, &noDevice, idp.Client()); err == nil {
		t.Fatal("device flow without an endpoint")
	}
}

// TestAuthRequest: the request carries PKCE S256, state, nonce and the
// extras, and never the verifier.
func TestAuthRequest(t *testing.T) {
	oc := &oauth2.Config{ClientID: "c", RedirectURL: "http://127.0.0.1", Endpoint: oauth2.Endpoint{AuthURL: "https://idp.example/auth"}}
	r, err := NewAuthRequest(oc, "a@x", map[string]string{"access_type": "offline"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(r.URL)
	q := u.Query()
	if q.Get("state") != r.State || q.Get("nonce") != r.Nonce || q.Get("code_challenge_method") != "S256" ||
		q.Get("login_hint") != "a@x" || q.Get("access_type") != "offline" || q.Get("code_challenge") == "" {
		t.Fatalf("authorization URL %s", r.URL)
	}
	if len(r.State) != 43 || r.State == r.Nonce {
		t.Fatal("state and nonce are not independent 256-bit values")
	}
	if strings.Contains(r.URL, r.Verifier) {
		t.Fatal("the PKCE verifier is in the URL")
	}
	oc.RedirectURL = ""
	if _, err := NewAuthRequest(oc, "", nil); err == nil {
		t.Fatal("no redirect URL accepted")
	}
}

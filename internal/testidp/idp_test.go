package testidp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func ctxWith(idp *IdP) context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, idp.Client())
}

func refresh(t *testing.T, idp *IdP, cfg *oauth2.Config, rt string) (*oauth2.Token, error) {
	t.Helper()
	return cfg.TokenSource(ctxWith(idp), &oauth2.Token{RefreshToken: rt}).Token()
}

func errorCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

func TestRefreshRotates(t *testing.T) {
	idp := New(t)
	cfg := idp.Config("")
	first := idp.Issue("alice@example.com")
	tok, err := refresh(t, idp, cfg, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == first.RefreshToken || tok.RefreshToken != idp.LatestRefreshToken("alice@example.com") {
		t.Fatalf("refresh token not rotated to the latest one")
	}
	if email, ok := idp.Validate(tok.AccessToken); !ok || email != "alice@example.com" {
		t.Fatalf("Validate = %q, %v", email, ok)
	}
	if _, err := refresh(t, idp, cfg, first.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Fatalf("old refresh token: err = %v, want invalid_grant", err)
	}
	if got := idp.RefreshRequests(); got != 2 {
		t.Fatalf("RefreshRequests = %d, want 2", got)
	}
	secrets := strings.Join(idp.Secrets(), " ")
	for _, s := range []string{first.RefreshToken, first.AccessToken, tok.RefreshToken, tok.AccessToken, idp.ClientSecret} {
		if !strings.Contains(secrets, s) {
			t.Fatal("Secrets misses an issued token")
		}
	}
}

func TestRefreshPolicies(t *testing.T) {
	idp := New(t)
	cfg := idp.Config("")
	first := idp.Issue("bob@example.com")

	idp.SetRefreshPolicy(true, -1) // rotate, old stays valid (Microsoft)
	if _, err := refresh(t, idp, cfg, first.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := refresh(t, idp, cfg, first.RefreshToken); err != nil {
		t.Fatalf("old token with unlimited grace: %v", err)
	}

	idp.SetRefreshPolicy(false, 0) // no rotation (Google)
	resp := postForm(t, idp, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken},
		"client_id": {ClientID}, "client_secret": {idp.ClientSecret}})
	if _, ok := resp["refresh_token"]; ok || resp["access_token"] == nil {
		t.Fatalf("non-rotating answer = %v, want access_token without refresh_token", keys(resp))
	}
}

func TestRevokeAndExpire(t *testing.T) {
	idp := New(t)
	tok := idp.Issue("carol@example.com")
	idp.Expire("carol@example.com")
	if _, ok := idp.Validate(tok.AccessToken); ok {
		t.Fatal("expired access token still valid")
	}
	idp.Revoke("carol@example.com")
	if _, err := refresh(t, idp, idp.Config(""), tok.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Fatalf("revoked: err = %v, want invalid_grant", err)
	}
	if idp.LatestRefreshToken("carol@example.com") != "" {
		t.Fatal("LatestRefreshToken after Revoke not empty")
	}
}

func TestClientAuthentication(t *testing.T) {
	idp := New(t)
	cfg := idp.Config("")
	cfg.ClientSecret = "wrong"
	if _, err := refresh(t, idp, cfg, idp.Issue("d@example.com").RefreshToken); errorCode(err) != "invalid_client" {
		t.Fatalf("wrong secret: err = %v, want invalid_client", err)
	}
	cfg = idp.Config("")
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	if _, err := refresh(t, idp, cfg, idp.Issue("d@example.com").RefreshToken); err != nil {
		t.Fatalf("form client auth: %v", err)
	}
}

func TestFailureAndDelay(t *testing.T) {
	idp := New(t)
	rt := idp.Issue("e@example.com").RefreshToken
	idp.SetFailure(http.StatusInternalServerError)
	var re *oauth2.RetrieveError
	if _, err := refresh(t, idp, idp.Config(""), rt); !errors.As(err, &re) || re.Response.StatusCode != 500 {
		t.Fatalf("err = %v, want a 500 RetrieveError", err)
	}
	idp.SetFailureBody(http.StatusOK, "not json")
	if _, err := refresh(t, idp, idp.Config(""), rt); err == nil {
		t.Fatal("malformed answer accepted")
	}
	idp.SetFailure(0)
	idp.SetDelay(time.Minute)
	ctx, cancel := context.WithTimeout(ctxWith(idp), 50*time.Millisecond)
	defer cancel()
	if _, err := idp.Config("").TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed: err = %v, want deadline exceeded", err)
	}
	if got := idp.RefreshRequests(); got != 3 {
		t.Fatalf("RefreshRequests = %d, want 3 (failures count)", got)
	}
}

func TestAuthCodeWithPKCE(t *testing.T) {
	for _, client := range []string{ClientID, PublicClientID} {
		t.Run(client, func(t *testing.T) {
			idp := New(t, WithTLS())
			cfg := idp.Config("http://127.0.0.1:9/callback")
			if client == PublicClientID {
				cfg.ClientID, cfg.ClientSecret = PublicClientID, ""
				cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
			}
			verifier := oauth2.GenerateVerifier()
			redirect := approveViaForm(t, idp, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), "f@example.com")
			code := redirect.Query().Get("code")
			if redirect.Query().Get("state") != "st" || code == "" {
				t.Fatalf("redirect %v lacks code or state", redirect)
			}
			if _, err := cfg.Exchange(ctxWith(idp), code, oauth2.VerifierOption("wrong-verifier-wrong-verifier-wrong-verifier")); errorCode(err) != "invalid_grant" {
				t.Fatalf("wrong verifier: err = %v", err)
			}
			back, _ := idp.Approve(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), "f@example.com")
			u, _ := url.Parse(back)
			tok, err := cfg.Exchange(ctxWith(idp), u.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if email, ok := idp.Validate(tok.AccessToken); !ok || email != "f@example.com" || tok.RefreshToken == "" {
				t.Fatalf("exchange gave %q %v", email, ok)
			}
		})
	}
}

// approveViaForm drives the sign-in page over HTTP like a browser.
func approveViaForm(t *testing.T, idp *IdP, authURL, email string) *url.URL {
	t.Helper()
	c := idp.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	page, err := c.Get(authURL)
	if err != nil || page.StatusCode != 200 {
		t.Fatalf("GET auth: %v %v", err, page)
	}
	page.Body.Close()
	u, _ := url.Parse(authURL)
	form := u.Query()
	form.Set("email", email)
	resp, err := c.PostForm(idp.AuthURL(), form)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("POST auth: %v %v", err, resp)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc
}

func TestAuthRequestRefusals(t *testing.T) {
	idp := New(t)
	for _, q := range []string{
		"response_type=token&client_id=" + ClientID + "&redirect_uri=http://x/",
		"response_type=code&client_id=nobody&redirect_uri=http://x/",
		"response_type=code&client_id=" + ClientID,
		"response_type=code&client_id=" + ClientID + "&redirect_uri=http://x/&code_challenge=abc&code_challenge_method=plain",
		"response_type=code&client_id=" + PublicClientID + "&redirect_uri=http://x/",
	} {
		resp, err := idp.Client().Get(idp.AuthURL() + "?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, resp.StatusCode)
		}
	}
}

func TestDeviceFlow(t *testing.T) {
	idp := New(t)
	cfg := idp.Config("")
	da, err := cfg.DeviceAuth(ctxWith(idp))
	if err != nil {
		t.Fatal(err)
	}
	resp := postForm(t, idp, url.Values{"grant_type": {deviceGrantType}, "device_code": {da.DeviceCode},
		"client_id": {ClientID}, "client_secret": {idp.ClientSecret}})
	if resp["error"] != "authorization_pending" {
		t.Fatalf("before approval: %v", resp["error"])
	}
	form := url.Values{"user_code": {strings.ToLower(da.UserCode)}, "email": {"g@example.com"}}
	r, err := idp.Client().PostForm(da.VerificationURI, form)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("approve page: %v %v", err, r)
	}
	r.Body.Close()
	tok, err := cfg.DeviceAccessToken(ctxWith(idp), da)
	if err != nil {
		t.Fatal(err)
	}
	if email, _ := idp.Validate(tok.AccessToken); email != "g@example.com" {
		t.Fatalf("device token for %q", email)
	}
	da, _ = cfg.DeviceAuth(ctxWith(idp))
	if err := idp.DenyDevice(da.UserCode); err != nil {
		t.Fatal(err)
	}
	resp = postForm(t, idp, url.Values{"grant_type": {deviceGrantType}, "device_code": {da.DeviceCode},
		"client_id": {ClientID}, "client_secret": {idp.ClientSecret}})
	if resp["error"] != "access_denied" {
		t.Fatalf("denied: %v", resp["error"])
	}
}

func TestUserinfo(t *testing.T) {
	idp := New(t)
	tok := idp.Issue("h@example.com")
	get := func(rawURL, bearer string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", rawURL, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := idp.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if code, m := get(idp.UserinfoURL(), tok.AccessToken); code != 200 || m["email"] != "h@example.com" {
		t.Fatalf("bearer: %d %v", code, m)
	}
	if code, m := get(idp.UserinfoURL()+"?access_token="+url.QueryEscape(tok.AccessToken), ""); code != 200 || m["sub"] != Subject("h@example.com") {
		t.Fatalf("query: %d %v", code, m)
	}
	if code, _ := get(idp.UserinfoURL(), "at-bogus"); code != http.StatusUnauthorized {
		t.Fatalf("bogus token: %d", code)
	}
	if code, m := get(idp.URL+"/.well-known/openid-configuration", ""); code != 200 || m["token_endpoint"] != idp.TokenURL() {
		t.Fatalf("discovery: %d %v", code, m)
	}
}

func postForm(t *testing.T, idp *IdP, v url.Values) map[string]any {
	t.Helper()
	resp, err := idp.Client().PostForm(idp.TokenURL(), v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("token answer %q: %v", body, err)
	}
	return m
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

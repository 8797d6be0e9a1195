package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

const (
	refreshToken = "rt-Very-Secret-0123456789"
	clientSecret = "cs-also/secret+value"
)

func TestRevokeTokenSendsRFC7009Request(t *testing.T) {
	var got http.Request
	ep := revocationEndpoint(t, 200, "", &got)
	conf := &oauth2.Config{ClientID: "oauthbridge", ClientSecret: clientSecret, Endpoint: oauth2.Endpoint{AuthStyle: oauth2.AuthStyleInHeader}}
	if err := RevokeToken(context.Background(), nil, ep, conf, refreshToken); err != nil {
		t.Fatal(err)
	}
	user, pass, ok := got.BasicAuth()
	if got.Method != http.MethodPost || got.PostForm.Get("token") != refreshToken || got.PostForm.Get("token_type_hint") != "refresh_token" {
		t.Errorf("request: %s %v", got.Method, got.PostForm)
	}
	if !ok || user != "oauthbridge" || pass != "cs-also%2Fsecret%2Bvalue" || got.PostForm.Get("client_secret") != "" {
		t.Errorf("client authentication: basic %v %q (form secret %q)", ok, user, got.PostForm.Get("client_secret"))
	}

	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	if err := RevokeToken(context.Background(), nil, ep, conf, refreshToken); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := got.BasicAuth(); ok || got.PostForm.Get("client_id") != "oauthbridge" || got.PostForm.Get("client_secret") != clientSecret {
		t.Errorf("in-params client authentication: %v", got.PostForm)
	}
}

func TestRevokeTokenErrorsHoldNoSecret(t *testing.T) {
	var got http.Request
	conf := &oauth2.Config{ClientID: "oauthbridge", ClientSecret: clientSecret}
	for _, body := range []string{`{"error":"unsupported_token_type","error_description":"` + refreshToken + `"}`, `<html>` + refreshToken} {
		ep := revocationEndpoint(t, 400, body, &got)
		err := RevokeToken(context.Background(), nil, ep, conf, refreshToken)
		if !errors.Is(err, ErrRevocationRefused) {
			t.Fatalf("error %v does not match ErrRevocationRefused", err)
		}
		if strings.Contains(err.Error(), refreshToken) || strings.Contains(err.Error(), clientSecret) {
			t.Errorf("error leaks a secret: %v", err)
		}
		if strings.HasPrefix(body, "{") && !strings.Contains(err.Error(), "HTTP 400 unsupported_token_type") {
			t.Errorf("error lacks status and code: %v", err)
		}
	}
	err := RevokeToken(context.Background(), nil, "http://127.0.0.1:1/revoke?x="+refreshToken, conf, refreshToken)
	if err == nil || strings.Contains(err.Error(), refreshToken) {
		t.Errorf("unreachable endpoint: %v", err)
	}
}

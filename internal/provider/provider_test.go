package provider

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// load builds a provider configuration the way serve does: through
// config.Parse, so defaults and presets apply.
func load(t *testing.T, yml string) *config.Provider {
	t.Helper()
	c, err := config.Parse("", []byte("providers:\n  p:\n"+yml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return c.Providers["p"]
}

func customYAML(issuer, extra string) string {
	return "    issuer: \"" + issuer + "\"\n    client_id: " + testidp.ClientID + "\n" +
		"    imap: {addr: \"127.0.0.1:11993\", tls: implicit}\n" + extra
}

func TestDiscoveryFillsEndpoints(t *testing.T) {
	idp := testidp.New(t)
	cfg := load(t, customYAML(idp.URL, "    token_url: \"http://127.0.0.1:1/explicit-token\"\n"))
	p, err := New(context.Background(), "p", cfg, "http://127.0.0.1:8025/oauth/callback", nil)
	if err != nil {
		t.Fatal(err)
	}
	eps, err := p.Endpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Endpoints{AuthURL: idp.AuthURL(), TokenURL: "http://127.0.0.1:1/explicit-token",
		DeviceURL: idp.DeviceURL(), UserinfoURL: idp.UserinfoURL()}
	if eps != want {
		t.Fatalf("endpoints = %+v\nwant %+v", eps, want)
	}
	if p.OAuth2.Endpoint.DeviceAuthURL != idp.DeviceURL() || p.OAuth2.RedirectURL != "http://127.0.0.1:8025/oauth/callback" {
		t.Errorf("oauth2 config = %+v", p.OAuth2)
	}
	if strings.Join(p.OAuth2.Scopes, " ") != "openid email offline_access" {
		t.Errorf("scopes = %v", p.OAuth2.Scopes)
	}
}

func TestDiscoveryDownAtStartIsRetriedLazily(t *testing.T) {
	defer swap(&RetryInterval, 0)()
	idp := testidp.New(t)
	idp.SetFailure(http.StatusServiceUnavailable)
	cfg := load(t, customYAML(idp.URL, "    client_secret: \""+idp.ClientSecret+"\"\n"))
	p, err := New(context.Background(), "p", cfg, "", nil)
	if err != nil {
		t.Fatalf("New must not fail when discovery does: %v", err)
	}
	if !strings.HasPrefix(p.OAuth2.Endpoint.TokenURL, placeholderScheme+":") {
		t.Fatalf("token url = %q, want a placeholder", p.OAuth2.Endpoint.TokenURL)
	}
	if _, err := p.Endpoints(context.Background()); !errors.Is(err, ErrDiscovery) {
		t.Fatalf("Endpoints during outage: %v", err)
	}
	idp.SetFailure(0)
	rt := idp.Issue("alice@example.test").RefreshToken
	tok, err := p.OAuth2.TokenSource(p.Context(context.Background()), &oauth2.Token{RefreshToken: rt}).Token()
	if err != nil {
		t.Fatalf("refresh through the placeholder: %v", err)
	}
	if email, ok := idp.Validate(tok.AccessToken); !ok || email != "alice@example.test" {
		t.Fatalf("refreshed token not valid: %q %v", email, ok)
	}
}

func TestDiscoveryFailureIsRememberedForRetryInterval(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	p, err := New(context.Background(), "p", load(t, customYAML(srv.URL, "")), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := p.Endpoints(context.Background()); !errors.Is(err, ErrDiscovery) || !strings.Contains(err.Error(), "502") {
			t.Fatalf("err = %v", err)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("discovery fetched %d times within RetryInterval, want 1", n)
	}
}

func TestDiscoveryIssuerMismatch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": "https://evil.example", "token_endpoint": "https://evil.example/token"})
	}))
	defer srv.Close()
	p, err := New(context.Background(), "p", load(t, customYAML(srv.URL, "")), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Endpoints(context.Background()); err == nil || !strings.Contains(err.Error(), `is for issuer "https://evil.example"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestCAFileTrustedForIdPAndUpstream(t *testing.T) {
	srv := httptest.NewTLSServer(nil)
	issuer := srv.URL
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "token_endpoint": issuer + "/token"})
	})
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}

	without, err := New(context.Background(), "p", load(t, customYAML(issuer, "")), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := without.Endpoints(context.Background()); err == nil {
		t.Fatal("untrusted certificate accepted without ca_file")
	}

	p, err := New(context.Background(), "p", load(t, customYAML(issuer, "    ca_file: "+ca+"\n")), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if eps, err := p.Endpoints(context.Background()); err != nil || eps.TokenURL != issuer+"/token" {
		t.Fatalf("with ca_file: %+v %v", eps, err)
	}
	ep := p.Upstreams["imap"]
	if ep.TLS != upstream.Implicit || ep.TLSConfig == nil || ep.TLSConfig.RootCAs == nil {
		t.Fatalf("imap upstream = %+v", ep)
	}
	if _, ok := p.Upstreams["pop3"]; ok {
		t.Error("pop3 upstream present without configuration")
	}
}

func TestPresetProvider(t *testing.T) {
	p, err := New(context.Background(), "g", load(t, "    preset: google\n    client_id: x\n    client_secret: y\n"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.DeviceFlowForMail {
		t.Error("google must not use the device flow for mail scopes")
	}
	if p.OAuth2.Endpoint.TokenURL != "https://oauth2.googleapis.com/token" || p.OAuth2.ClientSecret != "y" {
		t.Errorf("oauth2 = %+v", p.OAuth2.Endpoint)
	}
	if ep := p.Upstreams["smtp"]; ep.Addr != "smtp.gmail.com:465" || ep.TLS != upstream.Implicit || ep.TLSConfig != nil {
		t.Errorf("smtp = %+v", ep)
	}
	if p.Mechanism != "XOAUTH2" {
		t.Errorf("mechanism = %q", p.Mechanism)
	}
	m, err := New(context.Background(), "m", load(t, "    preset: microsoft365\n    client_id: x\n"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !m.DeviceFlowForMail || m.OAuth2.Endpoint.DeviceAuthURL != "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode" {
		t.Errorf("microsoft365 = %+v", m.OAuth2.Endpoint)
	}
}

func swap[T any](p *T, v T) func() {
	old := *p
	*p = v
	return func() { *p = old }
}

func TestAuthStyleIsFixed(t *testing.T) {
	idp := testidp.New(t)
	tests := []struct {
		name, yml string
		want      oauth2.AuthStyle
	}{
		{"public client", customYAML(idp.URL, ""), oauth2.AuthStyleInParams},
		{"confidential, discovery lists basic", customYAML(idp.URL, "    client_secret: s\n"), oauth2.AuthStyleInHeader},
		{"preset", "    preset: google\n    client_id: x\n    client_secret: y\n", oauth2.AuthStyleInParams},
	}
	for _, tt := range tests {
		p, err := New(context.Background(), "p", load(t, tt.yml), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.OAuth2.Endpoint.AuthStyle; got != tt.want {
			t.Errorf("%s: auth style %v, want %v", tt.name, got, tt.want)
		}
	}
	post := httptest.NewServer(nil)
	defer post.Close()
	post.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": post.URL, "token_endpoint": post.URL + "/t",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post"}})
	})
	p, err := New(context.Background(), "p", load(t, customYAML(post.URL, "    client_secret: s\n")), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.OAuth2.Endpoint.AuthStyle; got != oauth2.AuthStyleInParams {
		t.Errorf("post-only IdP: auth style %v", got)
	}
}

package testidp

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// Client credentials the IdP accepts. ClientID is confidential and must
// authenticate with ClientSecret (HTTP Basic or form); PublicClientID is a
// public client (no secret) for PKCE and device flows.
const (
	ClientID       = "oauthbridge-test"
	PublicClientID = "oauthbridge-test-public"
)

// DefaultAccessTTL is the lifetime of issued access tokens unless
// SetAccessTTL changes it.
const DefaultAccessTTL = time.Hour

// IdP is a running test identity provider. All methods are safe for
// concurrent use.
type IdP struct {
	// URL is the base URL (http://127.0.0.1:port, or https with WithTLS).
	URL string
	// ClientSecret is the confidential client's secret, random per IdP.
	ClientSecret string

	srv     *httptest.Server
	closing chan struct{}

	mu          sync.Mutex
	accessTTL   time.Duration
	rotate      bool
	grace       time.Duration // how long a rotated-out refresh token still works; <0 forever
	failStatus  int
	failBody    string
	delay       time.Duration
	refresh     map[string]*refreshGrant
	access      map[string]*accessGrant
	latest      map[string]string // email -> newest refresh token
	codes       map[string]*authCode
	devices     map[string]*deviceGrant // by device_code
	issued      []string                // every token ever minted, for leak checks
	tokenReqs   int
	refreshReqs int
}

type refreshGrant struct {
	email    string
	clientID string
	deadline time.Time // zero: valid until rotated or revoked
}

type accessGrant struct {
	email  string
	expiry time.Time
}

// Option changes how New builds the IdP.
type Option func(*options)

type options struct{ tls bool }

// WithTLS serves HTTPS with httptest's self-signed certificate; Client
// trusts it.
func WithTLS() Option { return func(o *options) { o.tls = true } }

// New starts an IdP on 127.0.0.1 and stops it when the test ends.
func New(t testing.TB, opts ...Option) *IdP {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	idp := &IdP{
		ClientSecret: "secret-" + randomString(12),
		closing:      make(chan struct{}),
		accessTTL:    DefaultAccessTTL,
		rotate:       true,
		refresh:      map[string]*refreshGrant{},
		access:       map[string]*accessGrant{},
		latest:       map[string]string{},
		codes:        map[string]*authCode{},
		devices:      map[string]*deviceGrant{},
	}
	idp.srv = httptest.NewUnstartedServer(idp.routes())
	if o.tls {
		idp.srv.StartTLS()
	} else {
		idp.srv.Start()
	}
	idp.URL = idp.srv.URL
	t.Cleanup(idp.close)
	return idp
}

func (idp *IdP) close() {
	close(idp.closing)
	idp.srv.Close()
}

func (idp *IdP) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", idp.handleToken)
	mux.HandleFunc("GET /auth", idp.handleAuthForm)
	mux.HandleFunc("POST /auth", idp.handleAuthPost)
	mux.HandleFunc("POST /device/code", idp.handleDeviceCode)
	mux.HandleFunc("GET /device", idp.handleDeviceForm)
	mux.HandleFunc("POST /device", idp.handleDevicePost)
	mux.HandleFunc("GET /userinfo", idp.handleUserinfo)
	mux.HandleFunc("GET /.well-known/openid-configuration", idp.handleDiscovery)
	return idp.outage(mux)
}

// outage answers every request with the configured failure, if any.
func (idp *IdP) outage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		idp.mu.Lock()
		status, body := idp.failStatus, idp.failBody
		idp.mu.Unlock()
		if status == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == "/token" {
			idp.count(r)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

// TokenURL is the token endpoint (RFC 6749 section 3.2).
func (idp *IdP) TokenURL() string { return idp.URL + "/token" }

// AuthURL is the authorization endpoint (authorization code with PKCE).
func (idp *IdP) AuthURL() string { return idp.URL + "/auth" }

// DeviceURL is the device authorization endpoint (RFC 8628).
func (idp *IdP) DeviceURL() string { return idp.URL + "/device/code" }

// UserinfoURL answers a bearer access token with the user's email.
func (idp *IdP) UserinfoURL() string { return idp.URL + "/userinfo" }

// Client returns an HTTP client that trusts the IdP (also with WithTLS).
func (idp *IdP) Client() *http.Client {
	c := idp.srv.Client()
	c.Timeout = 30 * time.Second
	return c
}

// Config returns an oauth2.Config for the confidential client. The auth
// style is fixed to HTTP Basic so x/oauth2 never probes (a probe would
// send two requests for one refresh and confuse the counters).
func (idp *IdP) Config(redirectURL string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     ClientID,
		ClientSecret: idp.ClientSecret,
		RedirectURL:  redirectURL,
		Scopes:       scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:       idp.AuthURL(),
			TokenURL:      idp.TokenURL(),
			DeviceAuthURL: idp.DeviceURL(),
			AuthStyle:     oauth2.AuthStyleInHeader,
		},
	}
}

// SetAccessTTL sets the lifetime of access tokens issued from now on.
func (idp *IdP) SetAccessTTL(d time.Duration) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.accessTTL = d
}

// SetRefreshPolicy chooses what a refresh does with the refresh token.
// rotate=true issues a new one each time; the old one then stays valid
// for grace (0: not at all, negative: forever, as Microsoft does).
// rotate=false omits refresh_token from the answer and keeps the old one.
func (idp *IdP) SetRefreshPolicy(rotate bool, grace time.Duration) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.rotate, idp.grace = rotate, grace
}

// SetFailure makes every endpoint answer status with an OAuth error body
// (server_error) until SetFailure(0). Token requests are still counted.
func (idp *IdP) SetFailure(status int) {
	idp.SetFailureBody(status, `{"error":"server_error"}`)
}

// SetFailureBody is SetFailure with a chosen body (sent as
// application/json, so a non-JSON body simulates a malformed reply).
func (idp *IdP) SetFailureBody(status int, body string) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.failStatus, idp.failBody = status, body
}

// SetDelay makes the token endpoint wait d before answering (after
// counting the request), to make concurrent callers overlap or to trip a
// client's timeout. The wait ends early when the client gives up.
func (idp *IdP) SetDelay(d time.Duration) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.delay = d
}

// TokenRequests counts requests to the token endpoint, of any grant type.
func (idp *IdP) TokenRequests() int {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return idp.tokenReqs
}

// RefreshRequests counts token requests with grant_type=refresh_token.
func (idp *IdP) RefreshRequests() int {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return idp.refreshReqs
}

// Secrets returns every access and refresh token the IdP ever issued,
// rotated-out and revoked ones included, and the client secret: a test can
// assert that none of them shows up in logs or error texts.
func (idp *IdP) Secrets() []string {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return append([]string{idp.ClientSecret}, idp.issued...)
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics internally)
	return hex.EncodeToString(b)
}

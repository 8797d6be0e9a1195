//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// AccessTokenTTL is Dex's ID/access token lifetime in the suite: short, so
// that scenarios can outlive a token and watch the proxy refresh it.
const AccessTokenTTL = 2 * time.Minute

// Scopes are what oauthbridge asks Dex for; offline_access yields refresh tokens.
var Scopes = []string{"openid", "email", "offline_access"}

// User is a static Dex user. Password is the user's password at Dex;
// LocalPassword, a different one, is what mail clients type at the proxy
// (the first consent sets it), so a test can tell the two apart.
type User struct {
	Email, Password, LocalPassword, ID string
}

// Users are the suite's accounts; scenarios that run in parallel each take
// their own, so a refresh or revocation of one never disturbs another.
var Users = makeUsers()

func makeUsers() map[string]User {
	users := map[string]User{}
	for _, n := range []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "kim"} {
		// One Dex password for all: bcrypt at Dex's minimum cost takes
		// seconds per hash under -race, so the suite hashes it once.
		users[n] = User{Email: n + "@example.test", Password: "dex-Pa55 shared", LocalPassword: n + "-local pa55",
			ID: "uid-" + n}
	}
	return users
}

// Dex is a running Dex server with its issuer at the root of its address.
type Dex struct {
	Bin, Dir string
	// URL is the issuer, http://127.0.0.1:PORT (no path: with a path,
	// Dex's device flow sends confidential clients to a URL that 404s).
	URL          string
	ClientID     string
	ClientSecret string
	// PublicClientID is a public (PKCE) client, for tools that need one.
	PublicClientID string
	proc           *Proc
	http           *http.Client
}

// DexConfig says what to put into Dex's configuration.
type DexConfig struct {
	// Addr is 127.0.0.1:PORT to listen on.
	Addr         string
	RedirectURIs []string
	Users        []User
}

// StartDex writes Dex's configuration into dir and starts it.
func StartDex(ctx context.Context, bin, dir string, cfg DexConfig) (*Dex, error) {
	d := &Dex{
		Bin: bin, Dir: dir, URL: "http://" + cfg.Addr,
		ClientID: "oauthbridge", ClientSecret: "bridge-client-secret-0123456789",
		PublicClientID: "oauthbridge-public",
		http:           &http.Client{Timeout: 10 * time.Second},
	}
	if err := d.writeConfig(cfg); err != nil {
		return nil, err
	}
	return d, d.Start(ctx)
}

func (d *Dex) writeConfig(cfg DexConfig) error {
	var pw []map[string]any
	hashes := map[string][]byte{}
	for _, u := range cfg.Users {
		h, ok := hashes[u.Password]
		if !ok {
			// Dex refuses logins against hashes cheaper than bcrypt's
			// default cost, even for static test users.
			var err error
			if h, err = bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.DefaultCost); err != nil {
				return fmt.Errorf("dex: hash password: %w", err)
			}
			hashes[u.Password] = h
		}
		pw = append(pw, map[string]any{"email": u.Email, "hash": string(h),
			"username": strings.Split(u.Email, "@")[0], "userID": u.ID})
	}
	conf := map[string]any{
		"issuer":  d.URL,
		"storage": map[string]any{"type": "sqlite3", "config": map[string]any{"file": filepath.Join(d.Dir, "dex.db")}},
		"web":     map[string]any{"http": strings.TrimPrefix(d.URL, "http://")},
		"logger":  map[string]any{"level": "debug", "format": "text"},
		"expiry": map[string]any{"idTokens": AccessTokenTTL.String(), "deviceRequests": "5m",
			"authRequests": "10m"},
		"oauth2": map[string]any{"passwordConnector": "local", "skipApprovalScreen": true,
			"responseTypes": []string{"code"}},
		"enablePasswordDB": true,
		"staticPasswords":  pw,
		"staticClients": []map[string]any{
			{"id": d.ClientID, "secret": d.ClientSecret, "name": "oauthbridge", "redirectURIs": cfg.RedirectURIs},
			{"id": d.PublicClientID, "public": true, "name": "oauthbridge (public)", "redirectURIs": cfg.RedirectURIs},
		},
	}
	b, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return fmt.Errorf("dex: config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(d.Dir, "dex.yaml"), b, 0o600); err != nil {
		return fmt.Errorf("dex: write config: %w", err)
	}
	return nil
}

// Start (re)starts Dex on its configured address and waits for discovery.
func (d *Dex) Start(ctx context.Context) error {
	p, err := StartProc("dex", filepath.Join(d.Dir, "dex.log"), d.Dir, nil,
		d.Bin, "serve", filepath.Join(d.Dir, "dex.yaml"))
	if err != nil {
		return err
	}
	d.proc = p
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if err := d.discovery(ctx); err == nil {
			return nil
		} else if p.Exited() || ctx.Err() != nil {
			return fmt.Errorf("dex did not come up: %v\n--- dex log ---\n%s", err, p.Tail(3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d *Dex) discovery(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.URL+"/.well-known/openid-configuration", nil)
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("discovery: %s", resp.Status)
	}
	return nil
}

// Stop stops Dex (by pid) and waits for it to exit.
func (d *Dex) Stop() { d.proc.Stop(5 * time.Second) }

// Proc is Dex's process, for its log.
func (d *Dex) Proc() *Proc { return d.proc }

// WipeStorage deletes Dex's database: every refresh token and signing key
// is gone, as after a revocation of everything. Dex must be stopped.
func (d *Dex) WipeStorage() error {
	for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(d.Dir, "dex.db"+suffix)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("dex: wipe storage: %w", err)
		}
	}
	return nil
}

// Token is a token endpoint response.
type Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	ExpiresIn    int    `json:"expires_in"`
	TokenType    string `json:"token_type"`
}

// PasswordGrant gets tokens for u with the resource-owner password grant,
// as oauthbridge's client. Because Dex keeps one refresh token per user
// and client, this also invalidates the refresh token the proxy holds for
// u: the suite's way to revoke one user's grant without touching others.
func (d *Dex) PasswordGrant(ctx context.Context, u User) (*Token, error) {
	form := url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password},
		"scope": {strings.Join(Scopes, " ")}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(d.ClientID, d.ClientSecret)
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("dex password grant: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("dex password grant for %s: %s: %s", u.Email, resp.Status, body)
	}
	var t Token
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, fmt.Errorf("dex password grant: decode: %w", err)
	}
	return &t, nil
}

// DeviceCode is Dex's device authorization response (RFC 8628 3.2).
type DeviceCode struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	Interval                int    `json:"interval"`
}

// DeviceGrant runs the whole device flow as oauthbridge's client, with
// the browser part done headlessly: the harness's own check that Dex's
// pages can be driven before the proxy's authorize command relies on it.
func (d *Dex) DeviceGrant(ctx context.Context, u User) (*Token, error) {
	form := url.Values{"client_id": {d.ClientID}, "client_secret": {d.ClientSecret}, "scope": {strings.Join(Scopes, " ")}}
	var dc DeviceCode
	if err := d.postForm(ctx, "/device/code", form, &dc); err != nil {
		return nil, err
	}
	if _, err := LoginAtDex(ctx, dc.VerificationURIComplete, u); err != nil {
		return nil, err
	}
	var t Token
	form = url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dc.DeviceCode},
		"client_id": {d.ClientID}, "client_secret": {d.ClientSecret}}
	if err := d.postForm(ctx, "/token", form, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

func (d *Dex) postForm(ctx context.Context, path string, form url.Values, out any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := d.http.Do(req)
	if err != nil {
		return fmt.Errorf("dex %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("dex %s: %s: %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("dex %s: decode: %w", path, err)
	}
	return nil
}

// LoginAtDex opens a Dex verification or authorization URL in a headless
// browser and logs in as u (the approval screen is skipped by config).
// It returns the text of the final page.
func LoginAtDex(ctx context.Context, start string, u User) (string, error) {
	b := NewBrowser(map[string]string{"login": u.Email, "password": u.Password})
	body, err := b.Run(ctx, start)
	if err != nil {
		return "", fmt.Errorf("login at dex as %s: %w (pages: %v)", u.Email, err, b.Pages)
	}
	return pageText(body), nil
}

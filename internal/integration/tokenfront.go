//go:build integration

package integration

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// TokenFront is a reverse proxy in front of Dex that the proxy under test
// uses as its token endpoint. It counts successful grants per user and
// grant type (read from the ID token Dex returns), which is more reliable
// than reading Dex's log, and it can play "IdP down" by closing its
// listener so connections are refused.
type TokenFront struct {
	// URL is the front's base; URL + "/token" is the token endpoint.
	URL  string
	addr string
	srv  *http.Server

	mu     sync.Mutex
	l      net.Listener
	grants map[string]int // "email grant_type" -> successful grants
	last   map[string]time.Time
}

// StartTokenFront starts a front for the Dex at target.
func StartTokenFront(target string) (*TokenFront, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("token front: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("token front: %w", err)
	}
	f := &TokenFront{addr: l.Addr().String(), l: l, grants: map[string]int{}, last: map[string]time.Time{}}
	f.URL = "http://" + f.addr
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = f.observe
	f.srv = &http.Server{Handler: f.tagGrant(rp), ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(l)
	return f, nil
}

// tagGrant remembers the request's grant_type for observe.
func (f *TokenFront) tagGrant(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		r.Header.Set("X-Test-Grant", form.Get("grant_type"))
		next.ServeHTTP(w, r)
	})
}

func (f *TokenFront) observe(resp *http.Response) error {
	grant := resp.Request.Header.Get("X-Test-Grant")
	if !strings.HasSuffix(resp.Request.URL.Path, "/token") || resp.StatusCode != http.StatusOK || grant == "" {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var t Token
	if json.Unmarshal(body, &t) != nil {
		return nil
	}
	email := jwtEmail(t.IDToken)
	if email == "" {
		email = jwtEmail(t.AccessToken)
	}
	f.mu.Lock()
	f.grants[email+" "+grant]++
	f.last[email] = time.Now()
	f.mu.Unlock()
	return nil
}

// jwtEmail reads the email claim of a JWT without verifying it (the front
// only counts; Dovecot and the proxy do the verifying).
func jwtEmail(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Email string `json:"email"`
	}
	_ = json.Unmarshal(b, &c)
	return c.Email
}

// Grants returns how many successful grants of grantType (e.g.
// "refresh_token") were made for email.
func (f *TokenFront) Grants(email, grantType string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.grants[email+" "+grantType]
}

// LastIssued is when a token for email last came through the front.
func (f *TokenFront) LastIssued(email string) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last[email]
}

// SetDown closes the listener (connections are refused) or opens it again
// on the same address.
func (f *TokenFront) SetDown(down bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if down {
		if f.l != nil {
			f.l.Close()
			f.l = nil
		}
		return nil
	}
	if f.l != nil {
		return nil
	}
	l, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("token front: reopen: %w", err)
	}
	f.l = l
	go f.srv.Serve(l)
	return nil
}

// Close stops the front.
func (f *TokenFront) Close() { f.srv.Close() }

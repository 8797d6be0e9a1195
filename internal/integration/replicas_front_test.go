//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// refreshRecorder stands in front of the suite's counting token front and
// remembers, per user, the refresh token of the last successful token
// response: what the identity provider considers current after rotation.
type refreshRecorder struct {
	URL string
	srv *http.Server

	mu   sync.Mutex
	last map[string]string // email -> refresh token last issued
}

// startRefreshRecorder forwards to target (a token front's base URL).
func startRefreshRecorder(t *testing.T, target string) *refreshRecorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &refreshRecorder{URL: "http://" + l.Addr().String(), last: map[string]string{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = r.observe
	r.srv = &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(l)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func (r *refreshRecorder) observe(resp *http.Response) error {
	if !strings.HasSuffix(resp.Request.URL.Path, "/token") || resp.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var tok Token
	if json.Unmarshal(body, &tok) != nil || tok.RefreshToken == "" {
		return nil
	}
	email := jwtEmail(tok.IDToken)
	if email == "" {
		email = jwtEmail(tok.AccessToken)
	}
	r.mu.Lock()
	r.last[email] = tok.RefreshToken
	r.mu.Unlock()
	return nil
}

// Last is the refresh token last issued for email ("" if none).
func (r *refreshRecorder) Last(email string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last[email]
}

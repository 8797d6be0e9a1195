package admin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

// sealedMarker is what the test records hold as "sealed" bytes; it must
// never show on the page.
const sealedMarker = "SEALED-GRANT-BYTES"

var (
	t0       = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	inMemory = time.Date(2026, 11, 1, 10, 30, 0, 0, time.UTC)
)

type fakeActivity struct{}

func (fakeActivity) Active() map[string]int { return map[string]int{"alice@example.test": 2} }
func (fakeActivity) LastLogins() map[string]time.Time {
	return map[string]time.Time{"alice@example.test": inMemory, "bob@example.test": t0.Add(-time.Hour)}
}

func newStore(t *testing.T) tokenstore.Store {
	t.Helper()
	s, err := filestore.Open(filepath.Join(t.TempDir(), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	for _, r := range []*tokenstore.Record{
		{Account: "alice@example.test", Provider: "lab", UpstreamUser: "alice@example.test", Status: tokenstore.StatusOK,
			Sealed: []byte(sealedMarker), KDF: tokenstore.KDFParams{Salt: []byte("SALTSALT")}, LastLogin: t0, LastRefresh: t0, AccessExpiry: t0.Add(time.Hour)},
		{Account: "bob@example.test", Provider: "work", UpstreamUser: "bob@contoso.onmicrosoft.com", Status: tokenstore.StatusNeedsConsent,
			StatusReason: "identity provider refused the refresh token: identity provider answered HTTP 400 invalid_grant", Sealed: []byte(sealedMarker), LastLogin: t0},
		{Account: "carol@example.test", Provider: "lab", Status: tokenstore.StatusRevoked, StatusReason: RevokedReason},
	} {
		if err := s.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestAccountsMergeActivity(t *testing.T) {
	list, err := Accounts(context.Background(), newStore(t), fakeActivity{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("%d accounts", len(list))
	}
	alice, bob, carol := list[0], list[1], list[2]
	if !alice.LastLogin.Equal(inMemory) || alice.ActiveSessions != 2 || alice.UpstreamUser != "" || alice.StateText() != "ok" {
		t.Errorf("alice: %+v", alice)
	}
	if !bob.LastLogin.Equal(t0) || bob.ActiveSessions != 0 || bob.StateText() != "needs consent" || bob.UpstreamUser != "bob@contoso.onmicrosoft.com" {
		t.Errorf("bob (stored last login is newer than memory's): %+v", bob)
	}
	if carol.StateText() != "revoked" {
		t.Errorf("carol: %+v", carol)
	}
	one, err := Account(context.Background(), newStore(t), nil, "carol@example.test")
	if err != nil || one.ActiveSessions != -1 {
		t.Errorf("Account without a running proxy: %+v, %v", one, err)
	}
	if _, err := Account(context.Background(), newStore(t), nil, "nobody@example.test"); err == nil {
		t.Error("an unknown account was found")
	}
}

func serveMux(p *Page) *http.ServeMux {
	mux := http.NewServeMux()
	p.Mount(mux)
	return mux
}

func get(t *testing.T, h http.Handler, path, remote string, set func(*http.Request)) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = remote
	if set != nil {
		set(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestPageShowsStateButNoSecret(t *testing.T) {
	h := serveMux(&Page{Store: newStore(t), Activity: fakeActivity{}, Version: "v-test"})
	w := get(t, h, "/admin", "127.0.0.1:50000", nil)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, body)
	}
	for _, want := range []string{"alice@example.test", "needs consent", "invalid_grant", "revoked", "2026-11-01 10:30:00Z", "3 accounts: 1 ok, 1 need consent, 1 revoked. 2 logged-in sessions open."} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("X-Frame-Options") != "DENY" {
		t.Error("missing no-store or frame denial")
	}
	j := get(t, h, "/admin/accounts.json", "[::1]:50000", nil)
	var doc struct{ Accounts []AccountStatus }
	if err := json.Unmarshal(j.Body.Bytes(), &doc); err != nil || len(doc.Accounts) != 3 {
		t.Fatalf("json: %v %s", err, j.Body.String())
	}
	for _, out := range []string{body, j.Body.String()} {
		for _, secret := range []string{sealedMarker, "U0VBTEVE", "SALTSALT", "U0FMVFNBTFQ"} {
			if strings.Contains(out, secret) {
				t.Errorf("output contains sealed or KDF material %q", secret)
			}
		}
	}
}

func TestAccessRules(t *testing.T) {
	store := newStore(t)
	open := serveMux(&Page{Store: store})
	locked := serveMux(&Page{Store: store, Password: "correct horse battery"})
	fwd := func(r *http.Request) { r.Header.Set("X-Forwarded-For", "198.51.100.7") }
	auth := func(pw string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth("admin", pw) } }
	for _, tc := range []struct {
		name   string
		h      http.Handler
		remote string
		set    func(*http.Request)
		want   int
	}{
		{"loopback", open, "127.0.0.1:1", nil, 200},
		{"remote without password configured", open, "192.0.2.10:1", nil, 403},
		{"loopback through a local reverse proxy", open, "127.0.0.1:1", fwd, 403},
		{"remote asks for password", locked, "192.0.2.10:1", nil, 401},
		{"remote with password", locked, "192.0.2.10:1", auth("correct horse battery"), 200},
		{"forwarded with password", locked, "127.0.0.1:1", func(r *http.Request) { fwd(r); auth("correct horse battery")(r) }, 200},
		{"remote wrong password", locked, "192.0.2.10:1", auth("wrong"), 401},
	} {
		if w := get(t, tc.h, "/admin", tc.remote, tc.set); w.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, w.Code, tc.want)
		}
	}
	if w := get(t, locked, "/admin", "192.0.2.10:1", nil); w.Header().Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
}

func TestWrongPasswordsAreLimited(t *testing.T) {
	h := serveMux(&Page{Store: newStore(t), Password: "correct horse battery"})
	auth := func(pw string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth("admin", pw) } }
	for i := range maxFailures {
		if w := get(t, h, "/admin", "192.0.2.10:1", auth("guess")); w.Code != 401 {
			t.Fatalf("guess %d: status %d", i, w.Code)
		}
	}
	if w := get(t, h, "/admin", "192.0.2.10:1", auth("correct horse battery")); w.Code != 429 {
		t.Errorf("after %d wrong passwords: status %d, want 429", maxFailures, w.Code)
	}
	if w := get(t, h, "/admin", "127.0.0.1:1", nil); w.Code != 200 {
		t.Errorf("loopback locked out by remote guessers: %d", w.Code)
	}
}

func TestMarkRevokedDropsTheGrant(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	if err := MarkRevoked(ctx, store, "alice@example.test"); err != nil {
		t.Fatal(err)
	}
	r, _ := store.Get(ctx, "alice@example.test")
	if r.Status != tokenstore.StatusRevoked || len(r.Sealed) != 0 || r.StatusReason != RevokedReason {
		t.Errorf("after revoke: status %s, %d sealed bytes, reason %q", r.Status, len(r.Sealed), r.StatusReason)
	}
	if err := MarkRevoked(ctx, store, "nobody@example.test"); err == nil {
		t.Error("revoking an unknown account succeeded")
	}
}

// revocationEndpoint is an RFC 7009 endpoint that records the form and
// answers with status and body.
func revocationEndpoint(t *testing.T, status int, body string, got *http.Request) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		*got = *r
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/revoke"
}

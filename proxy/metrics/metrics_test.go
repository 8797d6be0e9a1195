package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// handlerFunc adapts a function to proxy.Handler.
type handlerFunc func(ctx context.Context, conn net.Conn, s *proxy.Session)

func (f handlerFunc) ServeConn(ctx context.Context, conn net.Conn, s *proxy.Session) { f(ctx, conn, s) }

func TestLoginResultsAreFixed(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{login.ErrBadCredentials, "bad_credentials"},
		{fmt.Errorf("%w (retry in 3s)", login.ErrThrottled), "throttled"},
		{&login.ConsentError{Account: "a@example.test", Message: "open http://x"}, "needs_consent"},
		{fmt.Errorf("token for a: %w: idp down", login.ErrTemporary), "temporary"},
		{fmt.Errorf("imap upstream: %w", upstream.ErrRejected), "upstream_refused"},
		{fmt.Errorf("dial: %w", upstream.ErrUnreachable), "upstream_unreachable"},
		{errors.New("something new"), "internal_error"},
	} {
		got := LoginResult(tc.err)
		if got != tc.want {
			t.Errorf("LoginResult(%v) = %q, want %q", tc.err, got, tc.want)
		}
		if !contains(LoginResults, got) {
			t.Errorf("%q is not in LoginResults", got)
		}
	}
	if Protocol("imaps") != "imap" || Protocol("smtp") != "smtp" || Protocol("http") != "other" {
		t.Error("Protocol mapping")
	}
	if refreshResult("refreshed") != "refreshed" || refreshResult("new_kind") != "other" {
		t.Error("refresh result mapping")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// A scripted run through the hooks gives exactly the expected series,
// and the exposition passes the promlint checks.
func TestHooksCountAndLint(t *testing.T) {
	m := New("test")
	release := make(chan struct{})
	relaying := make(chan *proxy.Session, 1)
	h := m.Wrap(handlerFunc(func(_ context.Context, _ net.Conn, s *proxy.Session) {
		m.LoginDone(s, login.ErrBadCredentials)
		m.UpstreamDone(s, 30*time.Millisecond, nil)
		m.LoginDone(s, nil)
		s.BytesIn.Add(100)
		s.BytesOut.Add(2000)
		relaying <- s
		<-release
		s.BytesOut.Add(500)
	}))
	done := make(chan struct{})
	go func() {
		h.ServeConn(context.Background(), nil, &proxy.Session{Listener: "imaps"})
		close(done)
	}()
	<-relaying
	// While the session relays, its bytes already count.
	expectMetrics(t, m, `
# HELP oauthbridge_connections_open Client connections open now.
# TYPE oauthbridge_connections_open gauge
oauthbridge_connections_open{listener="imaps",protocol="imap"} 1
# HELP oauthbridge_relayed_bytes_total Bytes relayed after login, by protocol and direction (counted while sessions run).
# TYPE oauthbridge_relayed_bytes_total counter
oauthbridge_relayed_bytes_total{direction="client_to_upstream",protocol="imap"} 100
oauthbridge_relayed_bytes_total{direction="upstream_to_client",protocol="imap"} 2000
`, "oauthbridge_connections_open", "oauthbridge_relayed_bytes_total")
	close(release)
	<-done
	m.RefreshDone("lab", "refreshed", 200*time.Millisecond)
	m.RefreshDone("lab", "needs_consent", 10*time.Millisecond)
	m.Reloaded(false)
	expectMetrics(t, m, `
# HELP oauthbridge_connections_open Client connections open now.
# TYPE oauthbridge_connections_open gauge
oauthbridge_connections_open{listener="imaps",protocol="imap"} 0
# HELP oauthbridge_connections_total Client connections accepted (after implicit TLS, within the connection limit).
# TYPE oauthbridge_connections_total counter
oauthbridge_connections_total{listener="imaps",protocol="imap"} 1
# HELP oauthbridge_logins_total Login attempts by protocol and result.
# TYPE oauthbridge_logins_total counter
oauthbridge_logins_total{protocol="imap",result="bad_credentials"} 1
oauthbridge_logins_total{protocol="imap",result="ok"} 1
# HELP oauthbridge_relayed_bytes_total Bytes relayed after login, by protocol and direction (counted while sessions run).
# TYPE oauthbridge_relayed_bytes_total counter
oauthbridge_relayed_bytes_total{direction="client_to_upstream",protocol="imap"} 100
oauthbridge_relayed_bytes_total{direction="upstream_to_client",protocol="imap"} 2500
# HELP oauthbridge_token_refreshes_total Token refreshes by provider and result.
# TYPE oauthbridge_token_refreshes_total counter
oauthbridge_token_refreshes_total{provider="lab",result="needs_consent"} 1
oauthbridge_token_refreshes_total{provider="lab",result="refreshed"} 1
# HELP oauthbridge_config_reloads_total Configuration reloads (SIGHUP) by result.
# TYPE oauthbridge_config_reloads_total counter
oauthbridge_config_reloads_total{result="rejected"} 1
`, "oauthbridge_connections_open", "oauthbridge_connections_total", "oauthbridge_logins_total",
		"oauthbridge_relayed_bytes_total", "oauthbridge_token_refreshes_total", "oauthbridge_config_reloads_total")
	if n := testutil.CollectAndCount(m.upstreamDur); n != 1 {
		t.Errorf("%d upstream latency series, want 1", n)
	}
	lint(t, m)
}

func expectMetrics(t *testing.T, m *Metrics, want string, names ...string) {
	t.Helper()
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

func lint(t *testing.T, m *Metrics) {
	t.Helper()
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// fakeStore lists fixed records and counts the listings.
type fakeStore struct {
	tokenstore.Store
	recs  []*tokenstore.Record
	lists int
	err   error
}

func (f *fakeStore) List(context.Context) ([]*tokenstore.Record, error) {
	f.lists++
	return f.recs, f.err
}

func TestAccountsByStateCachedAndZeroFilled(t *testing.T) {
	st := &fakeStore{recs: []*tokenstore.Record{
		{Account: "a@example.test", Provider: "lab", Status: tokenstore.StatusOK},
		{Account: "b@example.test", Provider: "lab", Status: tokenstore.StatusOK},
		{Account: "c@example.test", Provider: "lab", Status: tokenstore.StatusNeedsConsent},
	}}
	m := New("test")
	m.WatchAccounts(st, func() []string { return []string{"lab", "work"} })
	want := `
# HELP oauthbridge_accounts Accounts in the token store by provider and state.
# TYPE oauthbridge_accounts gauge
oauthbridge_accounts{provider="lab",state="needs_consent"} 1
oauthbridge_accounts{provider="lab",state="ok"} 2
oauthbridge_accounts{provider="lab",state="revoked"} 0
oauthbridge_accounts{provider="work",state="needs_consent"} 0
oauthbridge_accounts{provider="work",state="ok"} 0
oauthbridge_accounts{provider="work",state="revoked"} 0
`
	expectMetrics(t, m, want, "oauthbridge_accounts")
	expectMetrics(t, m, want, "oauthbridge_accounts")
	if st.lists != 1 {
		t.Errorf("two scrapes listed the store %d times, want 1 (cached)", st.lists)
	}
	lint(t, m)
}

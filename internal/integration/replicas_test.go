//go:build integration

package integration

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/postgres"
)

// userReplica is the replica scenario's own user: its consent and
// refreshes disturb no other scenario's grant.
var userReplica = User{Email: "pia@example.test", Password: "pia-dex-Pa55", LocalPassword: "pia-local pa55", ID: "uid-pia"}

func init() { Users["pia"] = userReplica }

// replicaLogins is the size of the burst spread over both replicas.
const replicaLogins = 200

// TestReplicasShareOneStore: two oauthbridge processes on one PostgreSQL
// store and one Dex. A login refused by replica A carries a consent link;
// the link's page is completed (paste-back) on replica B; A then logs the
// user in with the grant B saved. Once the access token is due for
// refresh, 200 concurrent logins spread over both replicas all succeed
// with exactly one refresh at Dex, and the refresh token stored is the
// one Dex rotated to.
//
// Each replica derives the user's key (Argon2id, 64 MiB) once, before the
// burst, as any real first login does; the burst then measures the
// refresh, not 200 derivations on a 2-core machine.
func TestReplicasShareOneStore(t *testing.T) {
	t.Parallel()
	w := needWorld(t)
	dsn := replicaSchema(t)
	rec := startRefreshRecorder(t, w.Token.URL)
	a := startReplica(t, w, "replica-a", dsn, rec.URL)
	b := startReplica(t, w, "replica-b", dsn, rec.URL)
	u := userReplica

	link := replicaRefusal(t, a, u)
	consentThrough(t, b, link, u)
	consented := rec.Last(u.Email)
	for _, r := range []*Bridge{a, b} {
		if err := replicaLogin(r, u); err != nil {
			t.Fatalf("login through %s after consent through B: %v\n%s", r.Dir, err, r.LogTail(3000))
		}
	}
	waitUntilDue(t, w.Token, u)
	before := w.Token.Grants(u.Email, "refresh_token")
	start := time.Now()
	failed := burst(a, b, u, replicaLogins)
	t.Logf("%d logins over two replicas in %s", replicaLogins, time.Since(start).Round(time.Millisecond))
	for i, err := range failed {
		if i == 5 {
			t.Errorf("... and %d more", len(failed)-5)
			break
		}
		t.Errorf("login in the burst: %v", err)
	}
	if got := w.Token.Grants(u.Email, "refresh_token") - before; got != 1 {
		t.Errorf("Dex saw %d refresh grants for %d logins over two replicas, want exactly 1", got, replicaLogins)
	}
	stored := storedRefreshToken(t, dsn, u)
	if stored != rec.Last(u.Email) || stored == consented {
		t.Errorf("the stored refresh token is not the one Dex rotated to (stored is the consent's: %v)", stored == consented)
	}
	for _, r := range []*Bridge{a, b} {
		checkReplicaLog(t, r, u.LocalPassword, stored, consented)
	}
}

// replicaSchema returns a DSN for a fresh schema on the test PostgreSQL
// server, dropped when the test ends (after the replicas, which stop in
// cleanups registered later).
func replicaSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("OAUTHBRIDGE_TEST_POSTGRES_DSN")
	if base == "" {
		const how = `OAUTHBRIDGE_TEST_POSTGRES_DSN is not set: run eval "$(bash .ci/start-postgres)"`
		if os.Getenv(EnvRequire) == "1" {
			t.Fatal(how + " (" + EnvRequire + "=1 forbids skipping)")
		}
		t.Skip(how)
	}
	name := fmt.Sprintf("it_replicas_%d", time.Now().UnixNano())
	pgAdmin(t, base, "CREATE SCHEMA "+name)
	t.Cleanup(func() { pgAdmin(t, base, "DROP SCHEMA "+name+" CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("OAUTHBRIDGE_TEST_POSTGRES_DSN must be a URL here")
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// pgAdmin runs one statement through the shared store's own pool.
func pgAdmin(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("test PostgreSQL: %v", err)
	}
	defer s.Close()
	if _, err := s.Pool().Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// startReplica writes a replica's configuration (its own listeners and
// state directory; the shared store; the same public URL as its peers)
// and starts it with the suite's binary.
func startReplica(t *testing.T, w *World, name, dsn, tokenBase string) *Bridge {
	t.Helper()
	dir, err := w.sub(name)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := FreeAddrs(3)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := w.CA.Issue(filepath.Join(w.Dir, "certs"), name, "oauthbridge.example.test")
	if err != nil {
		t.Fatal(err)
	}
	b := &Bridge{Bin: w.Bridge.Bin, Dir: dir, ConfigPath: filepath.Join(dir, "oauthbridge.yaml"),
		IMAP: addrs[0], IMAPS: addrs[1], HTTP: addrs[2]}
	conf := map[string]any{
		"state_dir":                  filepath.Join(dir, "state"),
		"listen":                     map[string]string{"imap": b.IMAP, "imaps": b.IMAPS, "http": b.HTTP},
		"public_url":                 "http://bridge.example.test",
		"require_generated_password": false,
		"tls":                        map[string]string{"cert": leaf.CertFile, "key": leaf.KeyFile},
		"store":                      map[string]string{"driver": "postgres", "dsn": dsn},
		"limits":                     map[string]int{"max_connections_per_source": 4 * replicaLogins},
		"providers": map[string]any{"lab": map[string]any{
			"issuer": w.Dex.URL, "token_url": tokenBase + "/token", "client_id": w.Dex.ClientID,
			"client_secret": w.Dex.ClientSecret, "scopes": Scopes, "ca_file": w.CA.CAFile,
			"imap": upstreamConf(Upstream{w.Dovecot.IMAPS, "implicit"}),
		}},
		"accounts": []map[string]string{{"match": "*@example.test", "provider": "lab"}},
		"log":      map[string]string{"level": "info", "format": "json"},
	}
	data, _ := json.MarshalIndent(conf, "", "  ")
	if err := os.WriteFile(b.ConfigPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(testCtx(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	return b
}

// replicaLogin logs in to r's IMAPS listener as a password-only client
// does; the error carries the server's refusal text.
func replicaLogin(r *Bridge, u User) error {
	d := &net.Dialer{Timeout: 30 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", r.IMAPS, env.CA.ClientTLS())
	if err != nil {
		return fmt.Errorf("dial %s: %w", r.IMAPS, err)
	}
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	c := imapclient.New(conn, nil)
	defer c.Close()
	if err := c.Login(u.Email, u.LocalPassword).Wait(); err != nil {
		return err
	}
	return c.Logout().Wait()
}

// replicaRefusal logs in before any consent and returns the link the
// refusal carries.
func replicaRefusal(t *testing.T, r *Bridge, u User) string {
	t.Helper()
	err := replicaLogin(r, u)
	if err == nil {
		t.Fatal("a login without consent succeeded")
	}
	link := consentLinkRe.FindString(err.Error())
	if link == "" {
		t.Fatalf("the refusal carries no consent link: %v", err)
	}
	return link
}

var primaryLinkRe = regexp.MustCompile(`(?is)<a\b([^>]*class="button primary"[^>]*)>`)

// consentThrough completes the consent behind link on replica r's HTTP
// listener with paste-back, playing the user headlessly at Dex.
func consentThrough(t *testing.T, r *Bridge, link string, u User) {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	lu, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + r.HTTP
	// One browser for the whole consent: the site gives the browser that
	// starts an attempt an owner cookie and shows the attempt only to it.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	site := &http.Client{Timeout: 30 * time.Second, Jar: jar}
	page := sitePage(t, ctx, site, http.MethodGet, base+lu.Path, nil)
	action, form := formEndingIn(t, page, "/paste-start")
	page = sitePage(t, ctx, site, http.MethodPost, base+action, form)
	m := primaryLinkRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-in link on the paste page: %s", pageText(page))
	}
	br := NewBrowser(map[string]string{"login": u.Email, "password": u.Password})
	br.StopAt = func(v *url.URL) bool { return v.Query().Get("code") != "" || v.Query().Get("error") != "" }
	if _, err := br.Run(ctx, attrMap(m[1])["href"]); err != nil || br.Stopped == nil {
		t.Fatalf("sign-in at Dex: %v (pages %v)", err, br.Pages)
	}
	action, form = formEndingIn(t, page, "/paste")
	form.Set("pasted", br.Stopped.String())
	if text := pageText(sitePage(t, ctx, site, http.MethodPost, base+action, form)); !strings.Contains(text, "is connected") {
		t.Fatalf("consent through %s did not complete: %s\n%s", r.HTTP, text, r.LogTail(3000))
	}
}

// sitePage requests a consent-site page (following its redirects) and
// returns the body of a 200 answer.
func sitePage(t *testing.T, ctx context.Context, client *http.Client, method, target string, form url.Values) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s: %s", method, target, resp.Status, pageText(string(body)))
	}
	return string(body)
}

// formEndingIn returns the action and fields of the page's form whose
// action ends in suffix.
func formEndingIn(t *testing.T, page, suffix string) (string, url.Values) {
	t.Helper()
	for _, m := range formRe.FindAllStringSubmatch(page, -1) {
		action := attrMap(m[1])["action"]
		if !strings.HasSuffix(action, suffix) {
			continue
		}
		form := url.Values{}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
			if a := attrMap(in[1]); a["name"] != "" {
				form.Set(a["name"], a["value"])
			}
		}
		return action, form
	}
	t.Fatalf("no form for %s on the page: %s", suffix, pageText(page))
	return "", nil
}

// waitUntilDue sleeps until the access token the proxies last got for u
// has less than a minute left (the broker then refreshes instead of using
// it), plus a margin.
func waitUntilDue(t *testing.T, front *TokenFront, u User) {
	t.Helper()
	last := front.LastIssued(u.Email)
	if last.IsZero() {
		t.Fatalf("no token for %s went through the token front", u.Email)
	}
	until := last.Add(AccessTokenTTL - time.Minute + 5*time.Second)
	t.Logf("waiting %s for %s's access token to be due for refresh", time.Until(until).Round(time.Second), u.Email)
	time.Sleep(time.Until(until))
}

// burst runs n concurrent logins, alternating between a and b, and
// returns the failures.
func burst(a, b *Bridge, u User, n int) []error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		r := a
		if i%2 == 1 {
			r = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := replicaLogin(r, u); err != nil {
				errs <- fmt.Errorf("through %s: %w", filepath.Base(r.Dir), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	var out []error
	for err := range errs {
		out = append(out, err)
	}
	return out
}

// storedRefreshToken opens u's record in the shared store with the key
// of u's local password.
func storedRefreshToken(t *testing.T, dsn string, u User) string {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Get(ctx, u.Email)
	if err != nil {
		t.Fatal(err)
	}
	g, err := tokenstore.Open(tokenstore.DeriveKey([]byte(u.LocalPassword), r.KDF), r.Account, r.Sealed)
	if errors.Is(err, tokenstore.ErrWrongKey) {
		t.Fatal("the stored grant is not sealed under the password typed at the login that started consent")
	} else if err != nil {
		t.Fatal(err)
	}
	return g.RefreshToken
}

// checkReplicaLog fails the test if a replica's log holds a secret or a
// data race report.
func checkReplicaLog(t *testing.T, r *Bridge, secrets ...string) {
	t.Helper()
	log := r.Log()
	for _, s := range secrets {
		if s != "" && strings.Contains(log, s) {
			t.Errorf("%s's log holds a secret (%.4s...)", filepath.Base(r.Dir), s)
		}
	}
	if strings.Contains(log, "WARNING: DATA RACE") {
		t.Errorf("%s reported a data race:\n%s", filepath.Base(r.Dir), r.LogTail(8000))
	}
}

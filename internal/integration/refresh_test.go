//go:build integration

package integration

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// proxyLogin logs in to the proxy's IMAPS listener with a password, as a
// password-only client does, and selects INBOX (which only works if the
// proxy really logged in upstream). It returns the server's refusal text
// on failure.
func proxyLogin(w *World, u User, password string) (n uint32, err error) {
	c, err := imapclient.DialTLS(w.Bridge.IMAPS, &imapclient.Options{TLSConfig: w.CA.ClientTLS()})
	if err != nil {
		return 0, fmt.Errorf("dial proxy: %w", err)
	}
	defer c.Close()
	if err := c.Login(u.Email, password).Wait(); err != nil {
		return 0, err
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("select after login: %w", err)
	}
	_ = c.Logout().Wait()
	return sel.NumMessages, nil
}

// waitPastExpiry sleeps until the access token the proxy last got for u
// has expired at Dex, plus a margin.
func waitPastExpiry(t *testing.T, w *World, front *TokenFront, u User) {
	t.Helper()
	last := front.LastIssued(u.Email)
	if last.IsZero() {
		t.Fatalf("no token for %s ever went through the token endpoint front", u.Email)
	}
	until := last.Add(AccessTokenTTL + 5*time.Second)
	t.Logf("waiting %s for %s's access token to expire", time.Until(until).Round(time.Second), u.Email)
	time.Sleep(time.Until(until))
}

// TestRefreshBurstAfterExpiry is scenario 4: once the access token has
// expired, 20 parallel logins all succeed and Dex sees exactly one refresh.
func TestRefreshBurstAfterExpiry(t *testing.T) {
	t.Parallel()
	w := needWorld(t)
	u := Users["dave"]
	w.consent(t, u)
	if _, err := proxyLogin(w, u, u.LocalPassword); err != nil {
		t.Fatalf("first login: %v\n%s", err, w.Bridge.LogTail(2000))
	}
	before := w.Token.Grants(u.Email, "refresh_token")
	waitPastExpiry(t, w, w.Token, u)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := proxyLogin(w, u, u.LocalPassword); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("login in the burst failed: %v", err)
	}
	if got := w.Token.Grants(u.Email, "refresh_token") - before; got != 1 {
		t.Errorf("Dex saw %d refresh grants for the burst after expiry, want exactly 1", got)
	}
}

// TestRevokedGrantNeedsConsent is scenario 5: after the refresh token is
// revoked at Dex, the next login (once the cached access token is gone)
// gets the consent message with the link; after consent it works again.
func TestRevokedGrantNeedsConsent(t *testing.T) {
	t.Parallel()
	w := needWorld(t)
	u := Users["erin"]
	w.consent(t, u)
	if _, err := proxyLogin(w, u, u.LocalPassword); err != nil {
		t.Fatalf("first login: %v\n%s", err, w.Bridge.LogTail(2000))
	}
	// Dex keeps one refresh token per user and client: a new grant for
	// erin revokes the one the proxy holds.
	if _, err := w.Dex.PasswordGrant(testCtx(t, 20*time.Second), u); err != nil {
		t.Fatal(err)
	}
	w.forget(u)
	waitPastExpiry(t, w, w.Token, u)
	start := time.Now()
	_, err := proxyLogin(w, u, u.LocalPassword)
	if err == nil {
		t.Fatal("login succeeded with a revoked grant")
	}
	msg := err.Error()
	t.Logf("refusal after revocation (%s): %s", time.Since(start).Round(time.Millisecond), msg)
	if !strings.Contains(msg, "http://"+w.Bridge.HTTP) {
		t.Errorf("refusal does not carry the consent link %s: %s", "http://"+w.Bridge.HTTP, msg)
	}
	w.consent(t, u)
	if _, err := proxyLogin(w, u, u.LocalPassword); err != nil {
		t.Fatalf("login after renewed consent: %v\n%s", err, w.Bridge.LogTail(2000))
	}
}

// TestWrongLocalPasswordRefusedAtProxy: a wrong local password never
// reaches Dovecot (it would cost every user on the proxy's address the
// auth penalty) and gets the ordinary authentication failure.
func TestWrongLocalPasswordRefusedAtProxy(t *testing.T) {
	w := needWorld(t)
	u := curlUser
	w.consent(t, u)
	_, err := proxyLogin(w, u, "not-"+u.LocalPassword)
	if err == nil {
		t.Fatal("the proxy accepted a wrong local password")
	}
	if !strings.Contains(strings.ToUpper(err.Error()), "AUTHENTICATIONFAILED") {
		t.Errorf("want NO [AUTHENTICATIONFAILED], got %v", err)
	}
	if strings.Contains(w.Bridge.Log(), u.LocalPassword) {
		t.Error("the proxy's log contains a local password")
	}
}

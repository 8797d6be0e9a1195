//go:build integration

package integration

import (
	"strings"
	"testing"
	"time"
)

// failBound is how long a refused login may take at most: the point is
// that a broken upstream never leaves a client hanging, not speed.
const failBound = 45 * time.Second

// userBystander keeps logging in through provider "lab" while the other
// providers break, to show the proxy keeps serving other accounts.
var userBystander = Users["heidi"]

// failedLogin logs in as u, expects a refusal within failBound and
// returns its text.
func failedLogin(t *testing.T, w *World, u User, what string) string {
	t.Helper()
	start := time.Now()
	_, err := proxyLogin(w, u, u.LocalPassword)
	took := time.Since(start)
	if err == nil {
		t.Fatalf("%s: login succeeded", what)
	}
	if took > failBound {
		t.Errorf("%s: refusal took %s (bound %s)", what, took.Round(time.Millisecond), failBound)
	}
	t.Logf("%s: refused after %s: %v", what, took.Round(time.Millisecond), err)
	return err.Error()
}

func bystanderWorks(t *testing.T, w *World, during string) {
	t.Helper()
	if _, err := proxyLogin(w, userBystander, userBystander.LocalPassword); err != nil {
		t.Errorf("while %s, another account could not log in: %v", during, err)
	}
}

// TestFailuresDistinctAndIsolated is scenario 6: Dovecot down, Dex down
// and a mail server certificate from the wrong CA each give the client a
// clear, different refusal within a bounded time, and an account on a
// healthy provider keeps working meanwhile.
func TestFailuresDistinctAndIsolated(t *testing.T) {
	t.Parallel()
	w := needWorld(t)
	for _, u := range []User{userFlaky, userBadCA, userBystander} {
		w.consent(t, u)
	}
	if _, err := proxyLogin(w, userFlaky, userFlaky.LocalPassword); err != nil {
		t.Fatalf("flaky account before the outage: %v\n%s", err, w.Bridge.LogTail(2000))
	}
	texts := map[string]string{}

	must(t, w.FlakyIMAP.SetDown(true))
	texts["mail server down"] = failedLogin(t, w, userFlaky, "mail server down")
	bystanderWorks(t, w, "the flaky provider's mail server is down")
	must(t, w.FlakyIMAP.SetDown(false))

	texts["wrong CA"] = failedLogin(t, w, userBadCA, "wrong CA")
	bystanderWorks(t, w, "another provider's certificate is untrusted")

	waitPastExpiry(t, w, w.FlakyToken, userFlaky)
	must(t, w.FlakyToken.SetDown(true))
	texts["IdP down"] = failedLogin(t, w, userFlaky, "IdP down")
	bystanderWorks(t, w, "the flaky provider's IdP is down")
	must(t, w.FlakyToken.SetDown(false))

	if _, err := proxyLogin(w, userFlaky, userFlaky.LocalPassword); err != nil {
		t.Errorf("flaky account after the IdP came back: %v", err)
	}
	checkDistinct(t, texts)
	for _, s := range []string{w.Dex.ClientSecret, userFlaky.LocalPassword, userBadCA.LocalPassword} {
		if strings.Contains(w.Bridge.Log(), s) {
			t.Errorf("the proxy's log contains a secret (%d chars)", len(s))
		}
	}
}

func checkDistinct(t *testing.T, texts map[string]string) {
	t.Helper()
	seen := map[string]string{}
	for what, text := range texts {
		if other, dup := seen[text]; dup {
			t.Errorf("%q and %q give the client the same text %q: the user cannot tell them apart", what, other, text)
		}
		seen[text] = what
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

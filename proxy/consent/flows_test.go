package consent

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// loginWorks asserts that the mail client's login now yields a token the
// IdP knows as alice's.
func (w *world) loginWorks(user, password string) {
	w.t.Helper()
	g, err := w.loginIMAP(user, password)
	if err != nil {
		w.t.Fatalf("login after consent: %v", err)
	}
	if email, ok := w.idp.Validate(g.AccessToken); !ok || email != alice {
		w.t.Fatalf("login's access token belongs to %q (valid %v)", email, ok)
	}
}

func (w *world) loginFails(user, password string, want error) {
	w.t.Helper()
	if _, err := w.loginIMAP(user, password); !errors.Is(err, want) {
		w.t.Fatalf("login as %s: err = %v, want %v", user, err, want)
	}
}

// TestCodeFlow: a refused login hands out a link; the user opens it,
// signs in at the IdP (authorization code + PKCE), sees the success page,
// and the same mail login then works. The link works only once.
func TestCodeFlow(t *testing.T) {
	w := newWorld(t)
	link := w.consentLink(alice, alicePw)
	if !strings.HasPrefix(link, w.svc.public.String()+"/consent/") {
		t.Fatalf("link %q", link)
	}
	page, _ := w.openPage(link)
	for _, want := range []string{alice, "Lab IdP", "Sign in at Lab IdP", "Show me a code", "paste the address back"} {
		if !strings.Contains(page, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	done := w.codeFlow(link, alice)
	if done.status != http.StatusOK || !strings.Contains(done.body, "is connected") ||
		!strings.Contains(done.body, "same password you just typed") {
		t.Fatalf("after the callback: %d\n%s", done.status, done.body)
	}
	w.loginWorks(alice, alicePw)
	w.loginFails(alice, "another password", login.ErrBadCredentials)
	if r := w.get(link); r.status != http.StatusNotFound || !strings.Contains(r.body, "no longer works") {
		t.Fatalf("reused link: %d", r.status)
	}
}

// TestDeviceFlow: the page shows the IdP's user code, completes by itself
// once the user approved, and the login works.
func TestDeviceFlow(t *testing.T) {
	w := newWorld(t)
	link := w.consentLink(alice, alicePw)
	_, csrf := w.openPage(link)
	r := w.follow(w.post(path(link)+"/device", url.Values{"csrf": {csrf}}))
	code := match(t, userCodeRe, r.body)
	if !strings.Contains(r.body, `http-equiv="refresh"`) || !strings.Contains(r.body, w.idp.URL+"/device") {
		t.Fatalf("device page does not refresh itself or lacks the verification link:\n%s", r.body)
	}
	if err := w.idp.ApproveDevice(code, alice); err != nil {
		t.Fatal(err)
	}
	done := w.waitDone(link)
	if !strings.Contains(done, "is connected") {
		t.Fatalf("device flow ended on:\n%s", done)
	}
	w.loginWorks(alice, alicePw)
}

// waitDone reloads the page as its meta refresh would until it shows
// the result (the poller needs at least one poll interval, 1 s).
func (w *world) waitDone(link string) string {
	w.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		r := w.get(link)
		if r.status != http.StatusOK {
			w.t.Fatalf("page while waiting: %d\n%s", r.status, r.body)
		}
		if !strings.Contains(r.body, `http-equiv="refresh"`) {
			return r.body
		}
		time.Sleep(200 * time.Millisecond)
	}
	w.t.Fatal("the device flow did not finish")
	return ""
}

// TestDeviceFlowDenied: a refusal at the IdP brings the choices back
// with a notice, and nothing is saved.
func TestDeviceFlowDenied(t *testing.T) {
	w := newWorld(t)
	link := w.consentLink(alice, alicePw)
	_, csrf := w.openPage(link)
	code := match(t, userCodeRe, w.follow(w.post(path(link)+"/device", url.Values{"csrf": {csrf}})).body)
	if err := w.idp.DenyDevice(code); err != nil {
		t.Fatal(err)
	}
	page := w.waitDone(link)
	if n := notice(page); !strings.Contains(n, "You declined") {
		t.Fatalf("notice %q", n)
	}
	w.noRecord()
}

// TestPasteFlow: the page links to the IdP with a loopback redirect; the
// user pastes the address the browser ended on. Mistakes keep the attempt
// open with a notice saying what went wrong.
func TestPasteFlow(t *testing.T) {
	w := newWorld(t)
	link := w.consentLink(alice, alicePw)
	_, csrf := w.openPage(link)
	page := w.follow(w.post(path(link)+"/paste-start", url.Values{"csrf": {csrf}})).body
	authURL := match(t, authLinkRe, page)
	if !strings.Contains(authURL, "redirect_uri=http%3A%2F%2F127.0.0.1") || !strings.Contains(authURL, "code_challenge_method=S256") {
		t.Fatalf("paste-back authorization URL %q", authURL)
	}
	back, err := w.oidc.Approve(authURL, alice)
	if err != nil {
		t.Fatal(err)
	}
	w.noteRedirect(back)
	for pasted, want := range map[string]string{
		"hello":                                "does not look like the address",
		"http://127.0.0.1/?code=x&state=wrong": "another sign-in attempt",
		"http://127.0.0.1/":                    "does not look like",
	} {
		r := w.follow(w.post(path(link)+"/paste", url.Values{"csrf": {csrf}, "pasted": {pasted}}))
		if n := notice(r.body); !strings.Contains(n, want) || !strings.Contains(r.body, "Address the browser ended on") {
			t.Fatalf("pasted %q: notice %q, want %q", pasted, n, want)
		}
	}
	done := w.follow(w.post(path(link)+"/paste", url.Values{"csrf": {csrf}, "pasted": {"  " + back + "\n"}}))
	if !strings.Contains(done.body, "is connected") {
		t.Fatalf("paste-back ended on:\n%s", done.body)
	}
	w.loginWorks(alice, alicePw)
}

// noRecord asserts that nothing was saved for alice.
func (w *world) noRecord() {
	w.t.Helper()
	if _, err := w.store.Get(context.Background(), alice); !errors.Is(err, tokenstore.ErrNotFound) {
		w.t.Fatalf("a record was saved (err %v)", err)
	}
}

// TestIdentityMismatch: signing in at the IdP as someone else leaves
// nothing saved and says why; an alias from the configuration is taken.
func TestIdentityMismatch(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.Aliases = map[string][]string{alice: {aliasAlice}} })
	link := w.consentLink(alice, alicePw)
	r := w.codeFlow(link, mallory)
	n := notice(r.body)
	if !strings.Contains(n, "as "+mallory) || !strings.Contains(n, "this link is for "+alice) || !strings.Contains(n, "Nothing was saved") {
		t.Fatalf("mismatch notice %q", n)
	}
	w.noRecord()
	w.loginFails(alice, alicePw, login.ErrNeedsConsent)

	// Same link, now as the alias the configuration accepts: IdP
	// identities compare without regard to case.
	w.oidc.ClaimEmail(alice, strings.ToUpper(aliasAlice))
	if r := w.codeFlow(link, alice); !strings.Contains(r.body, "is connected") {
		t.Fatalf("alias refused:\n%s", r.body)
	}
	w.loginWorks(alice, alicePw)
}

// TestForgedIDToken: an ID token that does not verify with the issuer's
// keys is refused even though userinfo would name the right user.
func TestForgedIDToken(t *testing.T) {
	w := newWorld(t)
	w.oidc.SetForge(true)
	link := w.consentLink(alice, alicePw)
	if n := notice(w.codeFlow(link, alice).body); !strings.Contains(n, "could not be verified") {
		t.Fatalf("notice %q", n)
	}
	w.noRecord()
}

// TestExpiredTicket: a link past its lifetime is refused like an unknown
// one.
func TestExpiredTicket(t *testing.T) {
	w := newWorld(t)
	link := w.consentLink(alice, alicePw)
	_, csrf := w.openPage(link)
	w.tickets.mu.Lock()
	w.tickets.now = func() time.Time { return time.Now().Add(DefaultTicketTTL + time.Second) }
	w.tickets.mu.Unlock()
	if r := w.get(link); r.status != http.StatusNotFound {
		t.Fatalf("expired link: %d", r.status)
	}
	if r := w.post(path(link)+"/code", url.Values{"csrf": {csrf}}); r.status != http.StatusNotFound {
		t.Fatalf("expired link's form: %d", r.status)
	}
}

// TestForgedState: a callback whose state is not the attempt's is refused
// without redeeming its code; one without the flow cookie (another
// browser, or the terminal command's flow) changes nothing.
func TestForgedState(t *testing.T) {
	w := newWorld(t)
	link := w.consentLink(alice, alicePw)
	_, csrf := w.openPage(link)
	r := w.post(path(link)+"/code", url.Values{"csrf": {csrf}})
	back, err := w.oidc.Approve(r.loc, alice)
	if err != nil {
		t.Fatal(err)
	}
	w.noteRedirect(back)
	u, _ := url.Parse(back)
	forged := url.Values{"code": {u.Query().Get("code")}, "state": {"forged-" + u.Query().Get("state")}}
	before := w.idp.TokenRequests()

	// Another browser (no flow cookie): told to paste into the terminal.
	mine := w.browser
	w.newBrowser()
	r = w.get(CallbackPath + "?" + forged.Encode())
	w.browser = mine
	if r.status != http.StatusOK || !strings.Contains(r.body, "oauthbridge authorize") {
		t.Fatalf("callback without the flow cookie: %d\n%s", r.status, r.body)
	}
	page := w.follow(w.get(CallbackPath + "?" + forged.Encode()))
	if n := notice(page.body); !strings.Contains(n, "state mismatch") {
		t.Fatalf("forged state: notice %q", n)
	}
	if w.idp.TokenRequests() != before {
		t.Fatal("a code with a forged state was redeemed")
	}
	// The refusal ended the attempt and its cookie: the real answer,
	// arriving late, is not redeemed either.
	if r := w.get(back); r.status != http.StatusOK || !strings.Contains(r.body, "oauthbridge authorize") {
		t.Fatalf("late real answer: %d", r.status)
	}
	if w.idp.TokenRequests() != before {
		t.Fatal("a superseded attempt's code was redeemed")
	}
	w.noRecord()
}

// TestCSRF: forms without the page's token, or with another ticket's,
// are refused and change nothing.
func TestCSRF(t *testing.T) {
	w := newWorld(t)
	link := w.consentLink(alice, alicePw)
	other := w.consentLink("bob@example.com", "bob-pw-12345")
	_, otherCSRF := w.openPage(other)
	for name, form := range map[string]url.Values{
		"missing":      {},
		"other ticket": {"csrf": {otherCSRF}},
		"garbage":      {"csrf": {"x"}},
	} {
		for _, action := range []string{"code", "device", "paste-start", "paste", "restart"} {
			if r := w.post(path(link)+"/"+action, form); r.status != http.StatusForbidden {
				t.Fatalf("%s csrf on %s: %d", name, action, r.status)
			}
		}
	}
	page, _ := w.openPage(link)
	if !strings.Contains(page, "Sign in at Lab IdP") || w.idp.TokenRequests() != 0 {
		t.Fatal("a refused form changed the ticket")
	}
	if r := w.post("/", url.Values{"address": {alice}}); r.status != http.StatusForbidden {
		t.Fatalf("start page without token: %d", r.status)
	}
}

// TestCloseStopsPollers: a device flow still waiting for the user does
// not keep Close (and so the daemon's shutdown) waiting.
func TestCloseStopsPollers(t *testing.T) {
	w := newWorld(t)
	link := w.consentLink(alice, alicePw)
	_, csrf := w.openPage(link)
	if r := w.post(path(link)+"/device", url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther {
		t.Fatalf("start device flow: %d", r.status)
	}
	w.svc.mu.Lock()
	running := len(w.svc.pollers)
	w.svc.mu.Unlock()
	if running != 1 {
		t.Fatalf("%d pollers running, want 1", running)
	}
	if err := w.svc.Close(); err != nil {
		t.Fatal(err)
	}
	w.noRecord()
	// Another replica sharing the tickets shows the choice again, saying
	// why, instead of a code nobody polls for.
	tk, err := w.tickets.Get(context.Background(), path(link)[len("/consent/"):])
	if err != nil || tk.Stage != StageChoose || tk.Notice != interruptedNotice {
		t.Fatalf("after Close the ticket is %+v, %v; want the choice with the interruption notice", tk, err)
	}
}

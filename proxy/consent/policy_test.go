package consent

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/login"
)

// TestGeneratedPassword: under the policy the typed password is not kept;
// the success page shows a strong generated one once, and only it opens
// the grant.
func TestGeneratedPassword(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.RequireGeneratedPassword = true })
	link := w.consentLink(alice, alicePw)
	tk, err := w.tickets.Get(context.Background(), strings.TrimPrefix(path(link), "/consent/"))
	if err != nil || tk.Key != nil {
		t.Fatalf("ticket under the generated-password policy holds a key (%v)", err)
	}
	page, _ := w.openPage(link)
	if !strings.Contains(page, "a new one you will get at the end") {
		t.Error("consent page does not announce the generated password")
	}
	done := w.codeFlow(link, alice)
	pw := match(t, passwordRe, done.body)
	if len(pw) != 23 || !strings.Contains(done.body, "only time it is shown") {
		t.Fatalf("generated password %q / page:\n%s", pw, done.body)
	}
	w.mu.Lock()
	w.logOnly = append(w.logOnly, pw)
	w.mu.Unlock()
	w.loginFails(alice, alicePw, login.ErrBadCredentials)
	w.loginWorks(alice, pw)
	if r := w.get(link); r.status != http.StatusNotFound || strings.Contains(r.body, pw) {
		t.Fatal("the generated password can be shown twice")
	}
}

// TestGeneratedPasswordsDiffer: no two generated passwords are alike and
// each has the documented shape.
func TestGeneratedPasswordsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p := generatePassword()
		if seen[p] || len(p) != 23 || strings.Count(p, "-") != 3 || strings.ContainsAny(p, "0O1lI") {
			t.Fatalf("bad or repeated password %q", p)
		}
		seen[p] = true
	}
}

// TestStartPageNewPassword: on a new device the user chooses a new
// password; the old one keeps working until the new consent succeeds,
// and stops working then.
func TestStartPageNewPassword(t *testing.T) {
	w := newWorld(t)
	w.codeFlow(w.consentLink(alice, alicePw), alice)
	w.loginWorks(alice, alicePw)

	const newPw = "brand-new-pw-6d1f"
	w.secret(newPw)
	r := w.get("/")
	csrf := match(t, csrfRe, r.body)
	for form, want := range map[*url.Values]string{
		{"csrf": {csrf}, "address": {"eve@elsewhere.org"}}:                                "no account for that address",
		{"csrf": {csrf}, "address": {alice}, "password": {newPw}, "confirm": {"x"}}:       "not the same",
		{"csrf": {csrf}, "address": {alice}, "password": {"short"}, "confirm": {"short"}}: "too short",
	} {
		if n := notice(w.post("/", *form).body); !strings.Contains(n, want) {
			t.Fatalf("start page notice %q, want %q", n, want)
		}
	}
	r = w.post("/", url.Values{"csrf": {csrf}, "address": {"Alice@Example.com"}, "password": {newPw}, "confirm": {newPw}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/consent/") {
		t.Fatalf("start page post: %d %q", r.status, r.loc)
	}
	link := w.svc.public.String() + r.loc
	w.loginWorks(alice, alicePw) // nothing replaced yet
	done := w.codeFlow(link, alice)
	if !strings.Contains(done.body, "new password you chose") {
		t.Fatalf("done page:\n%s", done.body)
	}
	w.loginFails(alice, alicePw, login.ErrBadCredentials)
	w.loginWorks(alice, newPw)
}

// TestStartPageGenerated: leaving both fields empty gets a generated
// password.
func TestStartPageGenerated(t *testing.T) {
	w := newWorld(t)
	r := w.get("/")
	csrf := match(t, csrfRe, r.body)
	r = w.post("/", url.Values{"csrf": {csrf}, "address": {alice}})
	done := w.codeFlow(w.svc.public.String()+r.loc, alice)
	w.loginWorks(alice, match(t, passwordRe, done.body))
}

// TestHeaders: every kind of response carries the security headers; no
// page can run script, be framed or leak its address in a Referer.
func TestHeaders(t *testing.T) {
	w := newWorld(t)
	link := w.consentLink(alice, alicePw)
	_, csrf := w.openPage(link)
	for name, r := range map[string]response{
		"start":     w.get("/"),
		"consent":   w.get(link),
		"redirect":  w.post(path(link)+"/code", url.Values{"csrf": {csrf}}),
		"callback":  w.get(CallbackPath + "?code=a&state=b"),
		"not found": w.get("/nothing"),
		"gone":      w.get("/consent/unknown"),
		"forbidden": w.post(path(link)+"/code", nil),
	} {
		h := r.header
		policy := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "style-src 'self'", "form-action 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(policy, want) {
				t.Errorf("%s: CSP %q lacks %q", name, policy, want)
			}
		}
		if strings.Contains(policy, "script-src") || strings.Contains(policy, "unsafe") {
			t.Errorf("%s: CSP allows script: %q", name, policy)
		}
		for k, v := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
			"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"} {
			if h.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", name, k, h.Get(k), v)
			}
		}
		if strings.Contains(r.body, "<script") {
			t.Errorf("%s: page has a script", name)
		}
	}
	if p := w.get(link).header.Get("Content-Security-Policy"); !strings.Contains(p, "form-action 'self' "+w.oidc.URL) {
		t.Errorf("consent page CSP %q does not let its forms lead to the provider", p)
	}
}

// TestCookies: the flow cookie is HttpOnly, SameSite and scoped to the
// callback; the owner cookie is HttpOnly, SameSite and scoped to the
// consent pages; nothing else is stored in the browser.
func TestCookies(t *testing.T) {
	w := newWorld(t)
	link := w.consentLink(alice, alicePw)
	_, csrf := w.openPage(link)
	r := w.post(path(link)+"/code", url.Values{"csrf": {csrf}})
	cookies := map[string]string{}
	for _, c := range r.header.Values("Set-Cookie") {
		name, _, _ := strings.Cut(c, "=")
		cookies[name] = c
	}
	for name, wants := range map[string][]string{
		flowCookie:  {"Path=" + CallbackPath, "HttpOnly", "SameSite=Lax"},
		ownerCookie: {"Path=/consent/", "HttpOnly", "SameSite=Lax"},
	} {
		for _, want := range wants {
			if !strings.Contains(cookies[name], want) {
				t.Errorf("cookie %s %q lacks %q", name, cookies[name], want)
			}
		}
	}
	if len(cookies) != 2 {
		t.Errorf("cookies set: %v, want only the flow and owner cookies", cookies)
	}
}

// TestLinkAloneRevealsNothing: a login-started link reaches anyone who
// tries to log in as the account (under the generated-password policy the
// same open link is handed out again). Another browser holding it must
// see neither the device code of an attempt in progress nor the
// generated password at the end; it may only start over.
func TestLinkAloneRevealsNothing(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.RequireGeneratedPassword = true })
	link := w.consentLink(alice, alicePw)
	_, csrf := w.openPage(link)
	r := w.follow(w.post(path(link)+"/device", url.Values{"csrf": {csrf}}))
	code := match(t, userCodeRe, r.body)
	owner := w.browser

	w.newBrowser() // the attacker, with the same link
	other := w.get(link)
	if strings.Contains(other.body, code) || !strings.Contains(other.body, "started in another browser") {
		t.Fatalf("another browser sees the attempt in progress:\n%s", other.body)
	}
	if err := w.idp.ApproveDevice(code, alice); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		tk, err := w.tickets.Get(context.Background(), strings.TrimPrefix(path(link), "/consent/"))
		if err == nil && tk.Stage == StageDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the device flow did not finish")
		}
		time.Sleep(100 * time.Millisecond)
	}
	stolen := w.get(link)
	if passwordRe.MatchString(stolen.body) || !strings.Contains(stolen.body, "completed in another browser") {
		t.Fatalf("another browser was shown the result:\n%s", stolen.body)
	}
	w.browser = owner
	pw := match(t, passwordRe, w.get(link).body)
	w.mu.Lock()
	w.logOnly = append(w.logOnly, pw)
	w.mu.Unlock()
	w.loginWorks(alice, pw)
}

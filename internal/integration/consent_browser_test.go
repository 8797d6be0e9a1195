//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The consent scenarios' own users: each consents exactly once, through
// the browser, so no other scenario's grant is disturbed (Dex keeps one
// refresh token per user and client). They are added to the suite's
// users before TestMain writes Dex's configuration and seeds mailboxes.
var (
	userCode     = User{Email: "kate@example.test", Password: "kate-dex-Pa55", LocalPassword: "kate-local pa55", ID: "uid-kate"}
	userDevice   = User{Email: "leo@example.test", Password: "leo-dex-Pa55", LocalPassword: "leo-local pa55", ID: "uid-leo"}
	userPaste    = User{Email: "mia@example.test", Password: "mia-dex-Pa55", LocalPassword: "mia-local pa55", ID: "uid-mia"}
	userVictim   = User{Email: "nina@example.test", Password: "nina-dex-Pa55", LocalPassword: "nina-local pa55", ID: "uid-nina"}
	userImpostor = User{Email: "oscar@example.test", Password: "oscar-dex-Pa55", LocalPassword: "oscar-local pa55", ID: "uid-oscar"}
)

func init() {
	for _, u := range []User{userCode, userDevice, userPaste, userVictim, userImpostor} {
		Users[strings.TrimSuffix(u.Email, "@example.test")] = u
	}
}

// needConsentSite returns the running proxy when its consent site
// answers; it skips while `serve` does not mount it yet.
func needConsentSite(t *testing.T) *World {
	t.Helper()
	w := needWorld(t)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + w.Bridge.HTTP + "/")
	if err != nil {
		t.Skipf("oauthbridge serves no HTTP at %s: %v", w.Bridge.HTTP, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Set up mail sign-in") {
		t.Skipf("the consent site is not mounted by serve yet (GET / = %s)", resp.Status)
	}
	return w
}

// imapResult is what the inline imaplib client reports.
type imapResult struct {
	OK     bool   `json:"ok"`
	Text   string `json:"text"`
	Exists int    `json:"exists"`
}

// imaplibLogin is Python's imaplib logging in through the proxy (implicit
// TLS, LOGIN) as a mail client would: it reports the server's refusal
// text, or how many messages INBOX holds.
const imaplibLogin = `
import imaplib, json, os, ssl, sys
host, port, ca, user = sys.argv[1:5]
m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ssl.create_default_context(cafile=ca), timeout=60)
try:
    m.login(user, os.environ["IMAP_PASSWORD"])
except imaplib.IMAP4.error as e:
    print(json.dumps({"ok": False, "text": str(e)}))
    sys.exit(0)
typ, data = m.select("INBOX", readonly=True)
print(json.dumps({"ok": typ == "OK", "exists": int(data[0]), "text": typ}))
m.logout()
`

func imaplibAs(t *testing.T, w *World, u User) imapResult {
	t.Helper()
	host, port := splitAddr(t, w.Bridge.IMAPS)
	cmd := exec.CommandContext(testCtx(t, 90*time.Second), "python3", "-c", imaplibLogin, host, port, w.CA.CAFile, u.Email)
	cmd.Env = append(os.Environ(), "IMAP_PASSWORD="+u.LocalPassword)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("imaplib: %v\n%s\n--- oauthbridge ---\n%s", err, stderr.String(), w.Bridge.LogTail(3000))
	}
	var r imapResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("imaplib said %q", out)
	}
	return r
}

var consentLinkRe = regexp.MustCompile(`https?://[^\s'"]+/consent/[A-Za-z0-9_-]{43}`)

// refusedWithLink logs in with imaplib before any consent and returns the
// link the NO [ALERT] text carried.
func refusedWithLink(t *testing.T, w *World, u User) string {
	t.Helper()
	r := imaplibAs(t, w, u)
	if r.OK || !strings.Contains(r.Text, "[ALERT]") {
		t.Fatalf("first login of %s: %+v, want NO [ALERT] with a link", u.Email, r)
	}
	link := consentLinkRe.FindString(r.Text)
	if link == "" {
		t.Fatalf("the refusal carries no consent link: %q", r.Text)
	}
	return link
}

// loginWorksNow logs in with imaplib after consent and checks the mailbox
// is the user's.
func loginWorksNow(t *testing.T, w *World, u User) {
	t.Helper()
	r := imaplibAs(t, w, u)
	if want := len(w.Mail[u.Email].Folder("INBOX")); !r.OK || r.Exists != want {
		t.Fatalf("login after consent: %+v, want INBOX with %d messages", r, want)
	}
}

// TestConsentBrowserCode: a failed imaplib login through the proxy hands
// out a link; Chromium opens it, the user chooses "Sign in", signs in at
// Dex's login form, is redirected to the proxy's callback (authorization
// code + PKCE), sees the success page; imaplib then logs in to Dovecot
// through the proxy with the same password.
func TestConsentBrowserCode(t *testing.T) {
	w := needConsentSite(t)
	u := userCode
	link := refusedWithLink(t, w, u)
	c := newChrome(t)
	c.do("open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`form[action$="/code"] button`)))
	if text := c.text(); !strings.Contains(text, u.Email) || !strings.Contains(text, "What happens") {
		t.Fatalf("consent page does not say whose and what: %s", text)
	}
	c.shot("consent-page")
	c.do("choose sign in", chromedp.Click(chromedp.CSS(`form[action$="/code"] button`)))
	c.signInAtDex(u)
	c.waitText("is connected", 30*time.Second)
	c.shot("done")
	loginWorksNow(t, w, u)
	c.do("reopen the used link", chromedp.Navigate(link))
	c.waitText("no longer works", 10*time.Second)
	c.shot("used-link")
}

// TestConsentBrowserDevice: the page shows Dex's user code; a second
// browser (the user's phone, say) enters it at Dex and signs in; the
// first page finishes by itself.
func TestConsentBrowserDevice(t *testing.T) {
	w := needConsentSite(t)
	u := userDevice
	link := refusedWithLink(t, w, u)
	c := newChrome(t)
	c.do("open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`form[action$="/device"] button`)))
	c.do("choose a code", chromedp.Click(chromedp.CSS(`form[action$="/device"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.code`)))
	c.shot("device-code")
	verify, err := chromedp.Run(c.ctx, chromedp.AttributeValue(chromedp.CSS(`ol a`), "href"))
	if err != nil || !verify.Exists || !strings.HasPrefix(verify.Value, w.Dex.URL) {
		t.Fatalf("verification link %+v (%v)", verify, err)
	}
	code, _ := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(`p.code`)))
	phone := newChrome(t) // another device: its own browser, no shared cookies
	phone.do("open Dex's device page", chromedp.Navigate(verify.Value+"?user_code="+strings.TrimSpace(code)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="user_code"]`)))
	phone.shot("dex-device")
	phone.do("submit the code", chromedp.Submit(chromedp.CSS(`input[name="user_code"]`)))
	phone.signInAtDex(u)
	phone.waitText("Login Successful", 30*time.Second)
	phone.shot("dex-device-done")
	c.waitText("is connected", 40*time.Second)
	c.shot("done")
	loginWorksNow(t, w, u)
}

var pastedRe = regexp.MustCompile(`^http://127\.0\.0\.1/?\?.*code=`)

// TestConsentBrowserPaste: the page links to Dex with a loopback redirect;
// after signing in the browser ends on an address where nothing listens;
// the user copies that address into the page.
func TestConsentBrowserPaste(t *testing.T) {
	w := needConsentSite(t)
	u := userPaste
	link := refusedWithLink(t, w, u)
	c := newChrome(t)
	c.do("open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`form[action$="/paste-start"] button`)))
	c.do("choose paste-back", chromedp.Click(chromedp.CSS(`form[action$="/paste-start"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`textarea#pasted`)))
	c.shot("paste-page")
	auth, err := chromedp.Run(c.ctx, chromedp.AttributeValue(chromedp.CSS(`a.button.primary`), "href"))
	if err != nil || !auth.Exists {
		t.Fatalf("sign-in link: %v", err)
	}
	signIn := c.tab()
	seen := signIn.recordRequests()
	signIn.do("open the sign-in page", chromedp.Navigate(auth.Value))
	signIn.signInAtDex(u)
	ended := seen.wait(t, pastedRe, 30*time.Second)
	c.do("paste the address", chromedp.SendKeys(chromedp.CSS(`textarea#pasted`), ended),
		chromedp.Submit(chromedp.CSS(`textarea#pasted`)))
	c.waitText("is connected", 30*time.Second)
	c.shot("done")
	loginWorksNow(t, w, u)
}

// TestConsentBrowserMismatch: signing in at Dex as another user is
// refused with an explanation, nothing is saved, and the mail login is
// still refused with a link.
func TestConsentBrowserMismatch(t *testing.T) {
	w := needConsentSite(t)
	link := refusedWithLink(t, w, userVictim)
	c := newChrome(t)
	c.do("open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`form[action$="/code"] button`)))
	c.do("choose sign in", chromedp.Click(chromedp.CSS(`form[action$="/code"] button`)))
	c.signInAtDex(userImpostor)
	text := c.waitText("Nothing was saved", 30*time.Second)
	c.shot("mismatch")
	if !strings.Contains(text, "as "+userImpostor.Email) || !strings.Contains(text, "this link is for "+userVictim.Email) {
		t.Fatalf("mismatch page does not say why: %s", text)
	}
	if r := imaplibAs(t, w, userVictim); r.OK || !strings.Contains(r.Text, "/consent/") {
		t.Fatalf("after a refused consent the login is %+v, want a refusal with a link", r)
	}
}

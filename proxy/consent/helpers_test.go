package consent

import (
	"context"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

const (
	alice      = "alice@example.com"
	alicePw    = "alice-typed-pw-4c2e"
	mallory    = "mallory@example.com"
	aliasAlice = "alice.smith@example.org"
)

// cheapKDF keeps tests fast; production parameters are tested in
// tokenstore.
func cheapKDF() tokenstore.KDFParams {
	p := tokenstore.DefaultKDF()
	p.MemoryKiB, p.Time, p.Threads = 64, 1, 1
	return p
}

// world is one test's setup: an IdP with an OpenID Connect face, a token
// store and broker, the consent site on a loopback server, the login
// service wired to it, and a browser with a cookie jar that does not
// follow redirects (the test plays the user at the IdP).
type world struct {
	t       *testing.T
	idp     *testidp.IdP
	oidc    *testidp.OIDC
	store   *filestore.Store
	broker  *broker.Broker
	svc     *Service
	tickets *MemoryTickets
	login   *login.Service
	srv     *httptest.Server
	logs    *observer.ObservedLogs
	browser *http.Client

	mu      sync.Mutex
	pages   []string // every body the site served
	secrets []string // what must never be logged or shown
	logOnly []string // what must never be logged (codes, states)
}

type option func(*Config)

func newWorld(t *testing.T, opts ...option) *world {
	t.Helper()
	w := &world{t: t, idp: testidp.New(t), tickets: NewMemoryTickets(TicketLimits{}), secrets: []string{alicePw}}
	w.oidc = testidp.NewOIDC(t, w.idp)
	core, logs := observer.New(zapcore.DebugLevel)
	w.logs = logs
	log := zap.New(core)
	st, err := filestore.Open(filepath.Join(t.TempDir(), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.store = st
	w.broker = broker.New(st, map[string]*broker.Provider{
		"lab": {Name: "lab", OAuth2: w.oidc.Config(""), HTTPClient: w.idp.Client()}}, log)
	w.broker.KDF = cheapKDF
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		PublicURL: "http://" + ln.Addr().String(),
		Providers: map[string]*Provider{"lab": {
			Label:      "Lab IdP",
			Resolve:    StaticEndpoints(w.oidc.Config("", "openid", "email", "offline_access"), ""),
			Issuer:     w.oidc.URL,
			HTTPClient: w.idp.Client(),
		}},
		Accounts: func(u string) (Account, bool) {
			a := login.Canonical(u)
			if !strings.HasSuffix(a, "@example.com") {
				return Account{}, false
			}
			return Account{Name: a, Provider: "lab"}, true
		},
		Broker:  w.broker,
		Tickets: w.tickets,
		KDF:     cheapKDF,
		Log:     log,
	}
	for _, o := range opts {
		o(&cfg)
	}
	w.svc, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: w.record(w.svc)}}
	w.srv.Start()
	t.Cleanup(w.srv.Close)
	t.Cleanup(func() { w.svc.Close() })
	w.newLogin(log)
	w.newBrowser()
	t.Cleanup(w.checkNoLeaks)
	return w
}

func (w *world) newLogin(log *zap.Logger) {
	svc, err := login.NewService(login.ServiceConfig{
		Rules: []login.Rule{{Match: "*@example.com", Provider: "lab"}},
		Routes: map[string]*login.Route{"lab": {Provider: "lab", Mechanism: "XOAUTH2",
			Endpoints: map[login.Protocol]upstream.Endpoint{login.IMAP: {Addr: "127.0.0.1:1", TLS: upstream.Implicit}}}},
		Store: w.store, Broker: w.broker, Consent: w.svc, Log: log,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	w.login = svc
	w.svc.SetOnSaved(svc.Forget)
}

// newBrowser starts a fresh browser (empty cookie jar).
func (w *world) newBrowser() {
	jar, _ := cookiejar.New(nil)
	w.browser = &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// record keeps every page body for the leak check.
func (w *world) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		w.mu.Lock()
		w.pages = append(w.pages, rec.Body.String())
		w.mu.Unlock()
		for k, v := range rec.Header() {
			rw.Header()[k] = v
		}
		rw.WriteHeader(rec.Code)
		_, _ = rw.Write(rec.Body.Bytes())
	})
}

// loginIMAP tries a password login as a mail client would.
func (w *world) loginIMAP(user, password string) (*login.Grant, error) {
	return w.login.Authenticate(context.Background(), login.Request{Protocol: login.IMAP, Username: user,
		Password: password, Remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}})
}

// consentLink logs in without a grant and returns the link the client
// was given.
func (w *world) consentLink(user, password string) string {
	w.t.Helper()
	_, err := w.loginIMAP(user, password)
	var ce *login.ConsentError
	if !errors.As(err, &ce) || ce.URL == "" {
		w.t.Fatalf("login without a grant: err = %v, want a consent link", err)
	}
	if !strings.Contains(ce.Message, ce.URL) {
		w.t.Fatalf("the user's message %q does not carry the link", ce.Message)
	}
	return ce.URL
}

// response is one answer the browser got.
type response struct {
	status int
	header http.Header
	body   string
	loc    string
}

func (w *world) do(req *http.Request) response {
	w.t.Helper()
	resp, err := w.browser.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(body), loc: resp.Header.Get("Location")}
}

func (w *world) get(u string) response {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.abs(u), nil)
	return w.do(req)
}

func (w *world) post(u string, form url.Values) response {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.abs(u), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return w.do(req)
}

// abs resolves a site-relative URL.
func (w *world) abs(u string) string {
	if strings.HasPrefix(u, "/") {
		return w.svc.public.String() + u
	}
	return u
}

var (
	csrfRe     = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	userCodeRe = regexp.MustCompile(`class="code" aria-label="code">([^<]+)<`)
	authLinkRe = regexp.MustCompile(`<a href="([^"]+)" target="_blank" rel="noopener noreferrer" class="button primary">`)
	passwordRe = regexp.MustCompile(`class="password" id="password">([^<]+)<`)
	noticeRe   = regexp.MustCompile(`(?s)class="notice" role="alert">(.*?)</p>`)
)

func match(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("page has no %s:\n%s", re, body)
	}
	return html.UnescapeString(m[1])
}

// notice returns the page's notice text ("" when none).
func notice(body string) string {
	m := noticeRe.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// path returns the site-relative path of a link.
func path(link string) string {
	u, _ := url.Parse(link)
	return u.Path
}

// openPage opens a consent link and returns its page and CSRF token.
func (w *world) openPage(link string) (string, string) {
	w.t.Helper()
	r := w.get(link)
	if r.status != http.StatusOK {
		w.t.Fatalf("GET %s: %d\n%s", path(link), r.status, r.body)
	}
	return r.body, match(w.t, csrfRe, r.body)
}

// follow makes one more GET of a site-relative redirect.
func (w *world) follow(r response) response {
	w.t.Helper()
	if r.status != http.StatusSeeOther && r.status != http.StatusFound {
		w.t.Fatalf("want a redirect, got %d:\n%s", r.status, r.body)
	}
	return w.get(r.loc)
}

// codeFlow runs the authorization code flow from the consent page, with
// the user approving at the IdP as email; it returns the page the
// browser ends on.
func (w *world) codeFlow(link, email string) response {
	w.t.Helper()
	_, csrf := w.openPage(link)
	r := w.post(path(link)+"/code", url.Values{"csrf": {csrf}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, w.oidc.URL+"/auth?") {
		w.t.Fatalf("start code flow: %d to %q", r.status, r.loc)
	}
	back, err := w.oidc.Approve(r.loc, email)
	if err != nil {
		w.t.Fatal(err)
	}
	if !strings.HasPrefix(back, w.svc.public.String()+CallbackPath+"?") {
		w.t.Fatalf("IdP redirects to %q, not the callback", back)
	}
	w.noteRedirect(back)
	return w.follow(w.get(back))
}

// checkNoLeaks fails the test if a token, client secret, password, PKCE
// verifier, state or whole ticket id reached a log line, or a token or
// secret reached a page.
func (w *world) checkNoLeaks() {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	var logText, ownLog strings.Builder
	for _, e := range w.logs.All() {
		buf, err := enc.EncodeEntry(e.Entry, e.Context)
		if err != nil {
			w.t.Fatal(err)
		}
		logText.WriteString(buf.String())
		if e.LoggerName == "consent" {
			ownLog.WriteString(buf.String())
		}
	}
	w.mu.Lock()
	pages := strings.Join(w.pages, "\n")
	secrets := append(append([]string(nil), w.secrets...), w.idp.Secrets()...)
	w.mu.Unlock()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(logText.String(), s) {
			w.t.Errorf("a secret (%.6s...) is in the logs", s)
		}
		if strings.Contains(pages, s) {
			w.t.Errorf("a secret (%.6s...) is on a page", s)
		}
	}
	w.mu.Lock()
	logOnly := append([]string(nil), w.logOnly...)
	w.mu.Unlock()
	for _, s := range logOnly {
		if s != "" && strings.Contains(logText.String(), s) {
			w.t.Errorf("a code or state (%.6s...) is in the logs", s)
		}
	}
	// The login service logs the user's message, link included; this
	// package logs tickets only as a short tag.
	for _, p := range w.ticketIDs() {
		if strings.Contains(ownLog.String(), p) {
			w.t.Errorf("a whole ticket id is in the logs")
		}
	}
}

// ticketIDs lists every ticket id the test saw in a link.
func (w *world) ticketIDs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ids []string
	for _, p := range w.pages {
		for _, m := range regexp.MustCompile(`/consent/([A-Za-z0-9_-]{43})`).FindAllStringSubmatch(p, -1) {
			ids = append(ids, m[1])
		}
	}
	return ids
}

// secret adds values that must not leak.
func (w *world) secret(s ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.secrets = append(w.secrets, s...)
}

// noteRedirect remembers the code and state of a redirect for the log
// leak check.
func (w *world) noteRedirect(back string) {
	u, err := url.Parse(back)
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.logOnly = append(w.logOnly, u.Query().Get("code"), u.Query().Get("state"))
}

package consent

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"time"

	"go.uber.org/zap"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

// pages are parsed once: each page's "body" inside the shared layout.
var pages = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range []string{"choose", "device", "paste", "saving", "done", "start", "message", "cli"} {
		m[name] = template.Must(template.New(name).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return m
}()

// page is everything a template may show. It never holds a token; only
// the done page holds a generated password, once.
type page struct {
	Title    string
	Refresh  int
	Account  string
	Provider string
	Ticket   string
	CSRF     string
	Notice   string
	Message  string
	StartURL string
	Expires  string
	Created  string
	// FromStart: the ticket was opened on the start page.
	FromStart bool
	// Flows are the choices offered (choose page).
	Flows []Flow
	// Generated: the password will be generated at the end.
	Generated bool
	// Device flow.
	UserCode, VerificationURI, VerificationURIComplete string
	// Paste-back.
	AuthURL, RedirectURL string
	// Done page.
	Password    string
	NewPassword bool
}

// render writes a page with status; the template runs into a buffer so a
// failure cannot leave half a page.
func (s *Service) render(w http.ResponseWriter, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("render page", zap.Error(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// message renders a plain page that explains what happened.
func (s *Service) message(w http.ResponseWriter, status int, title, msg string) {
	s.render(w, status, "message", &page{Title: title, Message: msg, StartURL: s.startURL()})
}

// gone is the answer for an unknown, expired or used ticket: the three
// are deliberately indistinguishable.
func (s *Service) gone(w http.ResponseWriter) {
	s.message(w, http.StatusNotFound, "This link no longer works",
		"Links from oauthbridge work once and for a short time only. This one was already used, has expired, or was mistyped.")
}

func (s *Service) startURL() string { return s.public.String() + "/" }

func (s *Service) serveStyle(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(styleCSS)
}

// expiresText is the ticket's expiry as a reader sees it.
func expiresText(t time.Time) string {
	return t.UTC().Format("15:04 UTC")
}

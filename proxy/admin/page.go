package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// listTimeout bounds reading the store for one page.
const listTimeout = 10 * time.Second

// Page serves the status page. Set the fields, then Mount it.
type Page struct {
	// Store is the token store to list.
	Store tokenstore.Store
	// Activity is the running proxy's view of sessions; may be nil.
	Activity Activity
	// Password, when not empty, opens the page to other machines with
	// HTTP basic authentication (user "admin"). Secret.
	Password string
	// Version is shown in the page's footer.
	Version string
	// Log receives failures; nil discards.
	Log *zap.Logger

	gate *gate
}

// Mount registers GET /admin (HTML) and GET /admin/accounts.json on mux.
func (p *Page) Mount(mux *http.ServeMux) {
	p.gate = &gate{password: p.Password}
	if p.Log == nil {
		p.Log = zap.NewNop()
	}
	mux.Handle("GET /admin", p.guard(p.html))
	mux.Handle("GET /admin/accounts.json", p.guard(p.json))
}

// guard applies the access rules and the headers every answer carries.
func (p *Page) guard(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		switch p.gate.check(r) {
		case allow:
			next(w, r)
		case askPassword:
			h.Set("WWW-Authenticate", `Basic realm="oauthbridge admin", charset="UTF-8"`)
			http.Error(w, "admin password required", http.StatusUnauthorized)
		case tooMany:
			h.Set("Retry-After", "60")
			http.Error(w, "too many failed admin passwords, try again in a minute", http.StatusTooManyRequests)
		default:
			http.Error(w, "the status page answers only on loopback; set admin.password to open it from elsewhere", http.StatusForbidden)
		}
	})
}

func (p *Page) accounts(r *http.Request) ([]AccountStatus, bool) {
	ctx, cancel := context.WithTimeout(r.Context(), listTimeout)
	defer cancel()
	list, err := Accounts(ctx, p.Store, p.Activity)
	if err != nil {
		p.Log.Warn("admin page: cannot list accounts", zap.Error(err))
		return nil, false
	}
	return list, true
}

func (p *Page) json(w http.ResponseWriter, r *http.Request) {
	list, ok := p.accounts(r)
	if !ok {
		http.Error(w, "token store unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Accounts []AccountStatus `json:"accounts"`
	}{list})
}

func (p *Page) html(w http.ResponseWriter, r *http.Request) {
	list, ok := p.accounts(r)
	if !ok {
		http.Error(w, "token store unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(w, newView(list, p.Version, time.Now())); err != nil {
		p.Log.Debug("admin page: write failed", zap.Error(err))
	}
}

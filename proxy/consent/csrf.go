package consent

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"

	"github.com/oauthbridge/oauthbridge/proxy/consent/oauthflow"
)

// csrfToken binds a form to what it acts on (a ticket, or the start
// page's cookie) with a key that exists only in this process. A page from
// another site cannot know it, even though the ticket itself sits in the
// link.
func (s *Service) csrfToken(purpose, binding string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(purpose + "\x00" + binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfOK checks the form's token in constant time.
func (s *Service) csrfOK(r *http.Request, purpose, binding string) bool {
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(s.csrfToken(purpose, binding)))
}

// startCookie is the start page's CSRF binding: a random cookie value.
const startCookie = "oauthbridge_start"

// startBinding returns the start page's cookie value, setting a new one
// when the browser has none.
func (s *Service) startBinding(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(startCookie); err == nil && len(c.Value) >= 40 {
		return c.Value
	}
	v := oauthflow.Random()
	http.SetCookie(w, &http.Cookie{Name: startCookie, Value: v, Path: "/", HttpOnly: true,
		Secure: s.public.Scheme == "https", SameSite: http.SameSiteStrictMode})
	return v
}

// flowCookie binds the authorization code callback to the browser that
// started it: its value is the ticket id.
const flowCookie = "oauthbridge_consent"

func (s *Service) setFlowCookie(w http.ResponseWriter, t *Ticket) {
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: t.ID, Path: CallbackPath, HttpOnly: true,
		Secure: s.public.Scheme == "https", SameSite: http.SameSiteLaxMode, Expires: t.Expires})
}

func (s *Service) clearFlowCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: CallbackPath, HttpOnly: true,
		Secure: s.public.Scheme == "https", SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// ownerCookie marks the browser that started a consent attempt.
const ownerCookie = "oauthbridge_owner"

// owner returns the hash of this browser's owner cookie, setting a new
// cookie when it has none. Only the hash goes into the ticket.
func (s *Service) owner(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(ownerCookie); err == nil && len(c.Value) >= 40 {
		return ownerHash(c.Value)
	}
	v := oauthflow.Random()
	http.SetCookie(w, &http.Cookie{Name: ownerCookie, Value: v, Path: "/consent/", HttpOnly: true,
		Secure: s.public.Scheme == "https", SameSite: http.SameSiteLaxMode})
	return ownerHash(v)
}

// isOwner reports whether r comes from the browser that started t's
// current attempt (true when no attempt has an owner yet).
func isOwner(r *http.Request, t *Ticket) bool {
	if t.Owner == "" {
		return true
	}
	c, err := r.Cookie(ownerCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(ownerHash(c.Value)), []byte(t.Owner)) == 1
}

func ownerHash(v string) string {
	sum := sha256.Sum256([]byte("oauthbridge owner\x00" + v))
	return hex.EncodeToString(sum[:])
}

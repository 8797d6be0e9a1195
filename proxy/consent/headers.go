package consent

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// secure sets the headers every response carries. Pages that send the
// browser on to a provider widen form-action with withFormTargets.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp(nil))
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// csp is the policy: nothing may load but the site's own stylesheet and
// images, no script at all, no framing, and forms may go to the site
// itself and to the given provider origins (a form post answered with a
// redirect to the provider counts as going there).
func csp(formTargets []string) string {
	targets := append([]string{"'self'"}, formTargets...)
	return "default-src 'none'; style-src 'self'; img-src 'self'; form-action " + strings.Join(targets, " ") +
		"; frame-ancestors 'none'; base-uri 'none'"
}

// withFormTargets lets this page's forms lead to the origins of the given
// URLs.
func withFormTargets(w http.ResponseWriter, urls ...string) {
	var origins []string
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		o := u.Scheme + "://" + u.Host
		if !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	w.Header().Set("Content-Security-Policy", csp(origins))
}

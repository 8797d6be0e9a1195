package testidp

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// deviceTTL is how long a device code may wait for the user.
const deviceTTL = 10 * time.Minute

type deviceGrant struct {
	userCode string
	clientID string
	email    string // set on approval
	denied   bool
	expiry   time.Time
}

// handleDeviceCode starts a device authorization (RFC 8628 section 3.1).
// The poll interval is 1 s; tests usually approve before the first poll.
func (idp *IdP) handleDeviceCode(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	clientID, e := idp.identifyClient(r)
	if e != nil {
		writeError(w, e)
		return
	}
	dc := "dc-" + randomString(16)
	uc := strings.ToUpper(randomString(2) + "-" + randomString(2))
	idp.mu.Lock()
	idp.devices[dc] = &deviceGrant{userCode: uc, clientID: clientID, expiry: time.Now().Add(deviceTTL)}
	idp.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               dc,
		"user_code":                 uc,
		"verification_uri":          idp.URL + "/device",
		"verification_uri_complete": idp.URL + "/device?user_code=" + uc,
		"expires_in":                int(deviceTTL.Seconds()),
		"interval":                  1,
	})
}

// identifyClient accepts a known client_id without its secret, as
// x/oauth2 and Microsoft do for the device authorization request; a secret,
// when sent, must be right.
func (idp *IdP) identifyClient(r *http.Request) (string, *oauthError) {
	if _, _, basic := r.BasicAuth(); basic || r.PostForm.Get("client_secret") != "" {
		return idp.authenticateClient(r)
	}
	if id := r.PostForm.Get("client_id"); id == ClientID || id == PublicClientID {
		return id, nil
	}
	return "", &oauthError{http.StatusUnauthorized, "invalid_client", "unknown client"}
}

// ApproveDevice plays the user who enters userCode and consents as email.
func (idp *IdP) ApproveDevice(userCode, email string) error {
	return idp.decideDevice(userCode, func(g *deviceGrant) { g.email = email })
}

// DenyDevice plays the user who refuses consent for userCode.
func (idp *IdP) DenyDevice(userCode string) error {
	return idp.decideDevice(userCode, func(g *deviceGrant) { g.denied = true })
}

func (idp *IdP) decideDevice(userCode string, decide func(*deviceGrant)) error {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	for _, g := range idp.devices {
		if strings.EqualFold(g.userCode, userCode) && g.email == "" && !g.denied {
			decide(g)
			return nil
		}
	}
	return fmt.Errorf("testidp: no pending device authorization with user code %q", userCode)
}

// grantDevice answers a device token poll (RFC 8628 section 3.5).
func (idp *IdP) grantDevice(dc, clientID string) (*oauth2.Token, *oauthError) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	g := idp.devices[dc]
	fail := func(code string) (*oauth2.Token, *oauthError) {
		return nil, &oauthError{http.StatusBadRequest, code, "device authorization: " + code}
	}
	switch {
	case g == nil || g.clientID != clientID:
		return fail("invalid_grant")
	case time.Now().After(g.expiry):
		delete(idp.devices, dc)
		return fail("expired_token")
	case g.denied:
		delete(idp.devices, dc)
		return fail("access_denied")
	case g.email == "":
		return fail("authorization_pending")
	}
	delete(idp.devices, dc)
	return idp.mintLocked(g.email, clientID, true), nil
}

var deviceForm = template.Must(template.New("device").Parse(`<!doctype html>
<title>testidp device sign-in</title>
<form method="post" action="/device">
<label>Code <input name="user_code" value="{{.}}"></label>
<label>Email <input name="email"></label>
<button type="submit">Allow</button>
</form>
`))

// handleDeviceForm is the verification page the user visits.
func (idp *IdP) handleDeviceForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = deviceForm.Execute(w, r.URL.Query().Get("user_code"))
}

// handleDevicePost approves the posted user code for the posted email.
func (idp *IdP) handleDevicePost(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	email := r.PostForm.Get("email")
	err := errors.New("email is required")
	if email != "" {
		err = idp.ApproveDevice(r.PostForm.Get("user_code"), email)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("Device approved. You may close this window.\n"))
}

//go:build integration

package integration

import (
	"strings"
	"testing"
	"time"
)

// TestAuthorizeDeviceFlow: "oauthbridge authorize --flow device" prints a
// verification link and code, the user signs in at Dex (headless browser
// here), and the stored grant then serves password logins.
func TestAuthorizeDeviceFlow(t *testing.T) {
	w := needWorld(t)
	u := Users["kim"]
	w.authorize(t, u, "device")
	n, err := proxyLogin(w, u, u.LocalPassword)
	if err != nil {
		t.Fatalf("login after device-flow consent: %v\n%s", err, w.Bridge.LogTail(2000))
	}
	if want := len(w.Mail[u.Email].Folder("INBOX")); int(n) != want {
		t.Errorf("INBOX through the proxy has %d messages, seeded %d", n, want)
	}
}

// TestAuthorizePasteFlow: the paste-back flow (authorization code with
// PKCE, redirect to a loopback address where nothing listens) stores a
// grant that serves logins; the command's output never shows the secret.
func TestAuthorizePasteFlow(t *testing.T) {
	w := needWorld(t)
	u := Users["heidi"]
	out, err := w.Bridge.Authorize(testCtx(t, 2*time.Minute), u, "paste")
	if err != nil {
		t.Fatalf("%v\n%s", err, w.Bridge.LogTail(2000))
	}
	w.mu.Lock()
	w.authorized[u.Email] = true
	w.mu.Unlock()
	for _, s := range []string{u.LocalPassword, w.Dex.ClientSecret} {
		if strings.Contains(out, s) {
			t.Errorf("authorize printed a secret (%d chars)", len(s))
		}
	}
	if _, err := proxyLogin(w, u, u.LocalPassword); err != nil {
		t.Fatalf("login after paste-flow consent: %v", err)
	}
}

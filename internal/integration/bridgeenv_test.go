//go:build integration

package integration

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Which user plays which part. Each scenario that waits for token expiry
// or breaks something has its own user, so scenarios can run in parallel.
var (
	userFlaky = Users["frank"] // provider "flaky": its Dovecot and token endpoint can be cut off
	userBadCA = Users["grace"] // provider "badca": trusts the wrong CA for the mail server
)

// World is the shared proxy setup on top of Env.
type World struct {
	*Env
	Bridge *Bridge
	// FlakyToken and the Flaky* forwarders stand between provider "flaky"
	// and the real servers, so its IdP or mail server can go down alone.
	FlakyToken                            *TokenFront
	FlakyIMAP, FlakyPOP3, FlakySubmission *Forwarder

	mu         sync.Mutex
	authorized map[string]bool
}

var (
	worldOnce sync.Once
	world     *World
	worldErr  error
	worldSkip string
)

// needWorld returns the running proxy, building it on first use. It skips
// while cmd/oauthbridge does not exist yet, and fails if it does not build
// or start.
func needWorld(t *testing.T) *World {
	t.Helper()
	e := needEnv(t)
	worldOnce.Do(func() { world, worldSkip, worldErr = startWorld(e) })
	if worldSkip != "" {
		t.Skip(worldSkip)
	}
	if worldErr != nil {
		t.Fatalf("proxy setup: %v", worldErr)
	}
	return world
}

func startWorld(e *Env) (*World, string, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, "", err
	}
	if m, _ := filepath.Glob(filepath.Join(root, "cmd", "oauthbridge", "*.go")); len(m) == 0 {
		return nil, "cmd/oauthbridge does not exist yet: proxy scenarios need the binary", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := e.sub("bridge")
	if err != nil {
		return nil, "", err
	}
	bin, err := BuildBridge(ctx, dir)
	if err != nil {
		return nil, "", err
	}
	w := &World{Env: e, authorized: map[string]bool{}}
	if err := w.startFronts(); err != nil {
		return nil, "", err
	}
	leaf, err := e.CA.Issue(filepath.Join(e.Dir, "certs"), "oauthbridge", "oauthbridge.example.test")
	if err != nil {
		return nil, "", err
	}
	w.Bridge, err = NewBridge(bin, dir, e.BridgeHTTP, e.Dex, leaf, w.providers(), []BridgeAccount{
		{Match: userFlaky.Email, Provider: "flaky"},
		{Match: userBadCA.Email, Provider: "badca"},
		{Match: "*@example.test", Provider: "lab"},
	})
	if err != nil {
		return nil, "", err
	}
	if err := w.Bridge.Start(ctx); err != nil {
		return nil, "", err
	}
	return w, "", nil
}

func (w *World) startFronts() error {
	var err error
	if w.FlakyToken, err = StartTokenFront(w.Dex.URL); err != nil {
		return err
	}
	if w.FlakyIMAP, err = StartForwarder(w.Dovecot.IMAPS); err != nil {
		return err
	}
	if w.FlakyPOP3, err = StartForwarder(w.Dovecot.POP3); err != nil {
		return err
	}
	w.FlakySubmission, err = StartForwarder(w.Dovecot.Submission)
	return err
}

func (w *World) providers() map[string]BridgeProvider {
	lab := BridgeProvider{
		Issuer: w.Dex.URL, TokenURL: w.Token.URL + "/token", CAFile: w.CA.CAFile,
		IMAP: Upstream{w.Dovecot.IMAPS, "implicit"},
		POP3: Upstream{w.Dovecot.POP3, "starttls"},
		SMTP: Upstream{w.Dovecot.Submission, "starttls"},
	}
	flaky := lab
	flaky.TokenURL = w.FlakyToken.URL + "/token"
	flaky.IMAP = Upstream{w.FlakyIMAP.Addr, "implicit"}
	flaky.POP3 = Upstream{w.FlakyPOP3.Addr, "starttls"}
	flaky.SMTP = Upstream{w.FlakySubmission.Addr, "starttls"}
	badca := lab
	badca.CAFile = w.OtherCA.CAFile
	return map[string]BridgeProvider{"lab": lab, "flaky": flaky, "badca": badca}
}

// consentFlow is the flow consent uses for the scenarios' setup: paste-back
// (authorization code with PKCE), unless OAUTHBRIDGE_IT_FLOW says device.
// TestAuthorizeDeviceFlow covers the device flow on its own, so a fault
// there fails one test instead of hiding every scenario behind it.
func consentFlow() string {
	if f := os.Getenv("OAUTHBRIDGE_IT_FLOW"); f != "" {
		return f
	}
	return "paste"
}

// consent makes sure u has authorized the proxy, once.
func (w *World) consent(t *testing.T, u User) {
	t.Helper()
	w.mu.Lock()
	done := w.authorized[u.Email]
	w.mu.Unlock()
	if done {
		return
	}
	w.authorize(t, u, consentFlow())
	w.mu.Lock()
	w.authorized[u.Email] = true
	w.mu.Unlock()
}

// authorize runs the authorize command for u with the given flow.
func (w *World) authorize(t *testing.T, u User, flow string) {
	t.Helper()
	out, err := w.Bridge.Authorize(testCtx(t, 2*time.Minute), u, flow)
	if err != nil {
		t.Fatalf("authorize %s: %v\n--- oauthbridge log ---\n%s", u.Email, err, w.Bridge.LogTail(3000))
	}
	t.Logf("authorize %s --flow %s:\n%s", u.Email, flow, out)
}

// forget records that u's grant is gone, so the next consent runs again.
func (w *World) forget(u User) {
	w.mu.Lock()
	delete(w.authorized, u.Email)
	w.mu.Unlock()
}

// needUp skips when the proxy has no listener at addr (the front end for
// that protocol is not written yet).
func (w *World) needUp(t *testing.T, addr, what string) {
	t.Helper()
	if !w.Bridge.Up[addr] {
		t.Skipf("oauthbridge does not serve %s yet (nothing listens on %s)", what, addr)
	}
}

func stopWorld() {
	if world == nil {
		return
	}
	if world.Bridge != nil && world.Bridge.proc != nil {
		world.Bridge.Stop()
	}
	for _, f := range []*Forwarder{world.FlakyIMAP, world.FlakyPOP3, world.FlakySubmission} {
		if f != nil {
			f.Close()
		}
	}
	if world.FlakyToken != nil {
		world.FlakyToken.Close()
	}
}

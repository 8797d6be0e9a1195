//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// userDoctor is the account doctor checks end to end. Its grant lives in
// the shared proxy's store, and doctor refreshes through the broker, so
// a rotated refresh token lands in that store for the proxy too.
var userDoctor = Users["heidi"]

// TestDoctorAgainstRealServers runs `oauthbridge doctor ACCOUNT` against
// Dex and Dovecot: every step passes. Then the mail server goes away
// (its three ports stop answering) and exactly the mail server steps
// fail, each with the hint that nothing answers, while the IdP and the
// refresh still pass. It is not parallel: it shares the proxy's store
// and must not overlap the scenarios that break things on purpose.
func TestDoctorAgainstRealServers(t *testing.T) {
	w := needWorld(t)
	w.consent(t, userDoctor)
	fronts := map[string]*Forwarder{}
	for proto, target := range map[string]string{"imap": w.Dovecot.IMAPS, "pop3": w.Dovecot.POP3, "smtp": w.Dovecot.Submission} {
		f, err := StartForwarder(target)
		must(t, err)
		t.Cleanup(f.Close)
		fronts[proto] = f
	}
	cfg := doctorConfig(t, w, fronts)

	out, code := runDoctor(t, w, cfg)
	if code != 0 || strings.Contains(out, "[FAIL]") || !strings.Contains(out, "0 failed") {
		t.Fatalf("doctor with everything up: exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"[PASS] provider lab: identity provider: token endpoint",
		"[PASS] provider lab: imap server " + fronts["imap"].Addr + ": TLS 1.3, certificate for",
		"[PASS] account " + userDoctor.Email + ": token refresh at lab: refreshed",
		"[PASS] account " + userDoctor.Email + ": imap login at " + fronts["imap"].Addr,
		`SELECT INBOX answered "D2 OK`,
		"[PASS] account " + userDoctor.Email + ": smtp login at " + fronts["smtp"].Addr,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("green report lacks %q:\n%s", want, out)
		}
	}

	for _, f := range fronts {
		must(t, f.SetDown(true))
	}
	out, code = runDoctor(t, w, cfg)
	if code != 1 {
		t.Errorf("doctor with the mail server down: exit %d", code)
	}
	for proto, f := range fronts {
		for _, step := range []string{"provider lab: " + proto + " server " + f.Addr, "account " + userDoctor.Email + ": " + proto + " login at " + f.Addr} {
			if !strings.Contains(out, "[FAIL] "+step) {
				t.Errorf("%q did not fail:\n%s", step, out)
			}
		}
		if !strings.Contains(out, "hint: nothing answers at "+f.Addr+": is the mail server running") {
			t.Errorf("no hint for %s:\n%s", proto, out)
		}
	}
	for _, still := range []string{"[PASS] provider lab: identity provider", "[PASS] account " + userDoctor.Email + ": token refresh at lab"} {
		if !strings.Contains(out, still) {
			t.Errorf("%q should still pass with only the mail server down:\n%s", still, out)
		}
	}
	if strings.Contains(out, userDoctor.LocalPassword) || strings.Contains(out, w.Dex.ClientSecret) {
		t.Error("a secret is in doctor's report")
	}
}

// doctorConfig copies the proxy's configuration down to provider "lab",
// with its mail servers behind the given forwarders; the state directory
// (and so the store) stays the proxy's.
func doctorConfig(t *testing.T, w *World, fronts map[string]*Forwarder) string {
	t.Helper()
	data, err := os.ReadFile(w.Bridge.ConfigPath)
	must(t, err)
	var conf map[string]any
	must(t, json.Unmarshal(data, &conf))
	// Only the healthy provider: "badca" and "flaky" fail on purpose.
	lab := conf["providers"].(map[string]any)["lab"].(map[string]any)
	for proto, f := range fronts {
		lab[proto].(map[string]any)["addr"] = f.Addr
	}
	conf["providers"] = map[string]any{"lab": lab}
	conf["accounts"] = []map[string]string{{"match": "*@example.test", "provider": "lab"}}
	data, err = json.MarshalIndent(conf, "", "  ")
	must(t, err)
	path := filepath.Join(t.TempDir(), "doctor.yaml")
	must(t, os.WriteFile(path, data, 0o600))
	return path
}

// runDoctor runs the built binary's doctor for userDoctor and returns its
// report and exit code.
func runDoctor(t *testing.T, w *World, cfg string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.Bridge.Bin, "doctor", userDoctor.Email, "--config", cfg, "--password-stdin")
	cmd.Dir = w.Bridge.Dir
	cmd.Stdin = strings.NewReader(userDoctor.LocalPassword + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("doctor: %v\n%s", err, stderr.String())
	}
	t.Logf("doctor (exit %d):\n%s", code, stdout.String())
	return stdout.String() + stderr.String(), code
}

package login_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/oauthbridge/oauthbridge/proxy/login"
)

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSuffix(l.b.String(), "\n"), "\n")
}

// auditScenario runs the owner's login, an attacker's 10 guesses, and a
// login whose user name pretends to be an audit line of another address,
// and returns the audit lines.
func auditScenario(t *testing.T) (*env, []string) {
	t.Helper()
	audit := &lockedBuffer{}
	e := newEnvWith(t, func(c *login.ServiceConfig) { c.Audit = login.NewAuditLogger(audit) })
	e.authorize(t, "alice@example.test", "s3cret-pw")
	ctx := context.Background()
	e.svc.Authenticate(ctx, from("192.0.2.10", "alice@example.test", "s3cret-pw"))
	for i := range 10 {
		e.svc.Authenticate(ctx, from("203.0.113.66", "alice@example.test", fmt.Sprintf("guess-%d", i)))
	}
	forged := `x","client":"6.6.6.6","port":1,"result":"throttled","reason":"source locked","user":"x`
	for range 3 {
		e.svc.Authenticate(ctx, from("2001:db8::7", forged, "pw"))
	}
	e.svc.Authenticate(ctx, from("192.0.2.11", "nobody@elsewhere.test", "pw"))
	return e, audit.lines()
}

// One line per attempt, in the documented field order, with the reason
// the client never sees, and no password in any line.
func TestAuditStreamHasOneLinePerAttempt(t *testing.T) {
	_, lines := auditScenario(t)
	if len(lines) != 15 {
		t.Fatalf("%d audit lines for 15 attempts:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	order := regexp.MustCompile(`^\{"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","msg":"login","protocol":"imap","client":"[^"]+","port":\d+,"result":"[a-z_]+","reason":"[^"]*","user":".*"\}$`)
	reasons := map[string]int{}
	for _, l := range lines {
		if !order.MatchString(l) {
			t.Errorf("audit line not in the documented shape: %s", l)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("not JSON: %s", l)
		}
		reasons[fmt.Sprint(m["result"], "/", m["reason"])]++
		if strings.Contains(l, "s3cret-pw") || strings.Contains(l, "guess-") {
			t.Errorf("password in the audit stream: %s", l)
		}
	}
	want := map[string]int{"ok/": 1, "bad_credentials/wrong password": 6, "throttled/source locked": 4,
		"bad_credentials/unknown user": 4}
	for k, n := range want {
		if reasons[k] != n {
			t.Errorf("%d lines %q, want %d (all: %v)", reasons[k], k, n, reasons)
		}
	}
}

// failregex reads deploy/fail2ban's filter and turns it into a Go regexp:
// fail2ban's "%%" is "%", and <HOST> becomes a named group for an IPv4 or
// IPv6 address (fail2ban's own expansion also accepts host names).
func failregex(t *testing.T) (*regexp.Regexp, string) {
	t.Helper()
	path := filepath.Join("..", "..", "deploy", "fail2ban", "filter.d", "oauthbridge.conf")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^failregex\s*=\s*(.+)$`).FindStringSubmatch(string(data))
	if m == nil {
		t.Fatalf("no failregex in %s", path)
	}
	expr := strings.ReplaceAll(strings.TrimSpace(m[1]), "%%", "%")
	expr = strings.ReplaceAll(expr, "<HOST>", `(?P<host>[0-9A-Fa-f:.]+)`)
	return regexp.MustCompile(expr), path
}

// The fail2ban filter matches exactly the attempts refused because their
// source was locked, names the attacker's address, and cannot be steered
// to another address by a forged user name.
func TestFail2banFilterMatchesLockedSourcesOnly(t *testing.T) {
	_, lines := auditScenario(t)
	re, filter := failregex(t)
	hosts := map[string]int{}
	for _, l := range lines {
		if m := re.FindStringSubmatch(l); m != nil {
			hosts[m[re.SubexpIndex("host")]]++
		}
	}
	if len(hosts) != 1 || hosts["203.0.113.66"] != 4 {
		t.Fatalf("filter matched %v, want 203.0.113.66 four times", hosts)
	}
	// With fail2ban installed, ask fail2ban itself.
	if bin, err := exec.LookPath("fail2ban-regex"); err == nil {
		log := filepath.Join(t.TempDir(), "audit.log")
		os.WriteFile(log, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
		out, err := exec.Command(bin, log, filter).CombinedOutput()
		if err != nil {
			t.Fatalf("fail2ban-regex: %v\n%s", err, out)
		}
		if !regexp.MustCompile(`Lines: 15 lines, 0 ignored, 4 matched`).Match(out) {
			t.Fatalf("fail2ban-regex disagrees:\n%s", out)
		}
		t.Logf("fail2ban-regex agrees: 4 of 15 lines matched")
	}
}

package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// loggedIn opens an IMAP session through the proxy, logged in and with
// INBOX selected.
func loggedIn(t *testing.T, addr string) *wire {
	t.Helper()
	c := dialWire(t, addr)
	c.expect("* OK")
	c.send("a1 LOGIN " + opsUser + " \"" + testPassword + "\"\r\na2 SELECT INBOX\r\n")
	c.expect("a1 OK")
	c.expect("a2 OK")
	return c
}

// TestShutdownLetsSessionsFinish: after SIGTERM new connections are
// refused at once, a session in flight keeps working until it ends, and
// the process exits as soon as it has (long before the grace).
func TestShutdownLetsSessionsFinish(t *testing.T) {
	w := newOpsWorld(t)
	w.seed(t, opsUser)
	w.writeConfig(t, w.imap.Addr, "shutdown_grace: 60s\n")
	w.serve(t)
	c := loggedIn(t, w.addrs["imap"])
	stopped := time.Now()
	w.run.cancel()
	waitRefused(t, w.addrs["imap"])
	c.send("a3 NOOP\r\n")
	c.expect("a3 OK")
	c.send("a4 LOGOUT\r\n")
	c.expect("a4 OK")
	c.conn.Close() // as clients do after LOGOUT
	if code := w.run.wait(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if took := time.Since(stopped); took > 30*time.Second {
		t.Errorf("stop took %s although the last session ended at once (grace 60s)", took)
	}
	if log := w.run.stderr.String(); !strings.Contains(log, `"msg":"stopped"`) {
		t.Error("no stopped line")
	}
}

// TestShutdownGraceEndsIdleSessions: a session that does not end (IDLE
// for hours) is closed when shutdown_grace runs out, and the process
// exits then.
func TestShutdownGraceEndsIdleSessions(t *testing.T) {
	const grace = 2 * time.Second
	w := newOpsWorld(t)
	w.seed(t, opsUser)
	w.writeConfig(t, w.imap.Addr, "shutdown_grace: 2s\n")
	w.serve(t)
	c := loggedIn(t, w.addrs["imap"])
	c.send("a3 IDLE\r\n")
	c.expect("+ ")
	stopped := time.Now()
	w.run.cancel()
	if code := w.run.wait(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	took := time.Since(stopped)
	if took < grace || took > grace+20*time.Second {
		t.Errorf("stop took %s with an idle session and a grace of %s", took, grace)
	}
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(c.br); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Errorf("idle session not closed by the proxy: %v", err)
	}
}

// waitRefused waits until addr refuses connections.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the listener still accepts after the stop")
}

// TestHealthAndReadiness: /healthz and /readyz answer while serving; the
// admin page lists the account with its open session.
func TestHealthAndReadiness(t *testing.T) {
	w := newOpsWorld(t)
	w.seed(t, opsUser)
	w.serve(t)
	loggedIn(t, w.addrs["imap"])
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		code, body := httpGet(t, w.addrs["http"], path)
		if code != 200 || strings.TrimSpace(body) != want {
			t.Errorf("%s: %d %q", path, code, body)
		}
	}
	code, body := httpGet(t, w.addrs["http"], "/admin/accounts.json")
	if code != 200 || !strings.Contains(body, `"account":"`+opsUser+`"`) || !strings.Contains(body, `"active_sessions":1`) {
		t.Errorf("admin: %d %s", code, body)
	}
	if strings.Contains(body, "sealed") || strings.Contains(body, testPassword) {
		t.Error("admin JSON holds secret fields")
	}
}

func httpGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

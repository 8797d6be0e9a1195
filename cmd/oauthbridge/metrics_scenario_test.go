package main

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
)

// TestMetricsAfterScriptedScenario logs in over IMAP (a wrong password,
// an account without consent, then the right password, which refreshes
// the expired token), POP3 and SMTP, and checks that /metrics counts
// exactly that, and that the exposition passes promlint.
func TestMetricsAfterScriptedScenario(t *testing.T) {
	w := newOpsWorld(t)
	w.seed(t, opsUser)
	w.serve(t)

	c := dialWire(t, w.addrs["imap"])
	c.expect("* OK")
	c.send("a1 LOGIN " + opsUser + " wrong-password\r\n")
	c.expect("a1 NO [AUTHENTICATIONFAILED]")
	c.send("a2 LOGIN bob@example.test \"" + testPassword + "\"\r\n")
	c.expect("a2 NO [ALERT] Authorisation needed for bob@example.test")
	c.send("a3 LOGIN " + opsUser + " \"" + testPassword + "\"\r\n")
	c.expect("a3 OK")
	c.send("a4 SELECT INBOX\r\na5 LOGOUT\r\n")
	c.expect("a4 OK")
	c.expect("a5 OK")

	p := dialWire(t, w.addrs["pop3"])
	p.expect("+OK")
	p.send("USER " + opsUser + "\r\nPASS " + testPassword + "\r\n")
	p.expect("+OK")
	p.expect("+OK")
	p.send("QUIT\r\n")
	p.expect("+OK")

	s := dialWire(t, w.addrs["smtp"])
	s.expect("220 ")
	s.send("EHLO client.example\r\n")
	s.expect("250 ")
	s.send("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+opsUser+"\x00"+testPassword)) + "\r\n")
	s.expect("235 ")
	s.send("QUIT\r\n")
	s.expect("221 ")

	fams := waitClosed(t, w.addrs["http"])
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"oauthbridge_logins_total", map[string]string{"protocol": "imap", "result": "ok"}, 1},
		{"oauthbridge_logins_total", map[string]string{"protocol": "imap", "result": "bad_credentials"}, 1},
		{"oauthbridge_logins_total", map[string]string{"protocol": "imap", "result": "needs_consent"}, 1},
		{"oauthbridge_logins_total", map[string]string{"protocol": "pop3", "result": "ok"}, 1},
		{"oauthbridge_logins_total", map[string]string{"protocol": "smtp", "result": "ok"}, 1},
		{"oauthbridge_token_refreshes_total", map[string]string{"provider": "lab", "result": "refreshed"}, 1},
		{"oauthbridge_token_refresh_duration_seconds", map[string]string{"provider": "lab", "result": "refreshed"}, 1},
		{"oauthbridge_upstream_login_duration_seconds", map[string]string{"protocol": "imap", "result": "ok"}, 1},
		{"oauthbridge_upstream_login_duration_seconds", map[string]string{"protocol": "pop3", "result": "ok"}, 1},
		{"oauthbridge_upstream_login_duration_seconds", map[string]string{"protocol": "smtp", "result": "ok"}, 1},
		{"oauthbridge_connections_total", map[string]string{"listener": "imap", "protocol": "imap"}, 1},
		{"oauthbridge_connections_total", map[string]string{"listener": "pop3", "protocol": "pop3"}, 1},
		{"oauthbridge_connections_total", map[string]string{"listener": "smtp", "protocol": "smtp"}, 1},
		{"oauthbridge_accounts", map[string]string{"provider": "lab", "state": "ok"}, 1},
		{"oauthbridge_accounts", map[string]string{"provider": "lab", "state": "needs_consent"}, 0},
	} {
		if got := value(fams, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if n := countSeries(fams, "oauthbridge_logins_total"); n != 5 {
		t.Errorf("%d login series, want the 5 above", n)
	}
	for _, dir := range []string{"client_to_upstream", "upstream_to_client"} {
		if v := value(fams, "oauthbridge_relayed_bytes_total", map[string]string{"protocol": "imap", "direction": dir}); v <= 0 {
			t.Errorf("imap bytes %s: %v", dir, v)
		}
	}
	_, text := scrape(t, w.addrs["http"])
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	if strings.Contains(text, opsUser) || strings.Contains(text, "bob@") {
		t.Error("an account name is in the metrics")
	}
}

// waitClosed scrapes until no connection is open (the proxy closes its
// side a moment after the client's), and returns that scrape.
func waitClosed(t *testing.T, httpAddr string) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams, _ := scrape(t, httpAddr)
		open := 0.0
		for _, m := range fams["oauthbridge_connections_open"].GetMetric() {
			open += m.GetGauge().GetValue()
		}
		if open == 0 || time.Now().After(deadline) {
			return fams
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countSeries(fams map[string]*dto.MetricFamily, name string) int {
	if f := fams[name]; f != nil {
		return len(f.GetMetric())
	}
	return 0
}

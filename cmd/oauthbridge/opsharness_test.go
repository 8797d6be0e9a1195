package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
	"github.com/oauthbridge/oauthbridge/proxy/pop3front/pop3test"
	"github.com/oauthbridge/oauthbridge/proxy/smtpfront/smtptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

const opsUser = "alice@example.test"

// opsWorld is a proxy in-process with real upstream servers for every
// protocol, one provider backed by a test IdP and an account seeded in
// the store (with cheap KDF parameters, so many logins stay fast).
type opsWorld struct {
	dir, cfg string
	idp      *testidp.IdP
	imap     *imaptest.Server
	pop3     *pop3test.Server
	smtp     *smtptest.Server
	run      *cmdRun
	addrs    map[string]string
	hup      chan os.Signal
}

func newOpsWorld(t *testing.T) *opsWorld {
	t.Helper()
	w := &opsWorld{dir: isolate(t), idp: testidp.New(t), hup: make(chan os.Signal, 1)}
	w.imap = imaptest.Start(t, imaptest.Options{Validate: w.idp.Validate, Users: []string{opsUser}, TLS: upstream.Plain})
	w.pop3 = &pop3test.Server{Validate: w.idp.Validate}
	w.smtp = &smtptest.Server{Validate: w.idp.Validate}
	for _, s := range []interface{ Start() error }{w.pop3, w.smtp} {
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { w.pop3.Close(); w.smtp.Close() })
	w.cfg = filepath.Join(w.dir, "ops.yaml")
	w.writeConfig(t, w.imap.Addr, "")
	return w
}

// writeConfig writes the configuration with the IMAP upstream at imapAddr
// and extra appended (top-level keys).
func (w *opsWorld) writeConfig(t *testing.T, imapAddr, extra string) {
	t.Helper()
	yml := `state_dir: state
listen: {imap: "127.0.0.1:0", imaps: "127.0.0.1:0", pop3: "127.0.0.1:0", smtp: "127.0.0.1:0", http: "127.0.0.1:0"}
public_url: "http://127.0.0.1:8025"
providers:
  lab:
    issuer: "` + w.idp.URL + `"
    client_id: ` + testidp.ClientID + `
    client_secret: "` + w.idp.ClientSecret + `"
    imap: {addr: "` + imapAddr + `", tls: plain}
    pop3: {addr: "` + w.pop3.Addr() + `", tls: plain}
    smtp: {addr: "` + w.smtp.Addr + `", tls: plain}
accounts:
  - {match: "*@example.test", provider: lab}
log: {level: debug, format: json}
` + extra
	if err := os.WriteFile(w.cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
}

// seed stores a grant for account whose access token has already
// expired, so the first login refreshes it.
func (w *opsWorld) seed(t *testing.T, account string) {
	t.Helper()
	state := filepath.Join(w.dir, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	store, err := filestore.Open(filepath.Join(state, "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	b := broker.New(store, map[string]*broker.Provider{"lab": {Name: "lab", OAuth2: w.idp.Config(""), HTTPClient: w.idp.Client()}}, nil)
	b.KDF = func() tokenstore.KDFParams {
		p := tokenstore.DefaultKDF()
		p.MemoryKiB, p.Threads = 64, 1
		return p
	}
	tok := w.idp.Issue(account)
	tok.Expiry = time.Now().Add(-time.Minute)
	if err := b.Save(context.Background(), account, "lab", account, []byte(testPassword), tok); err != nil {
		t.Fatal(err)
	}
}

// serve starts the daemon and waits until it listens.
func (w *opsWorld) serve(t *testing.T) {
	t.Helper()
	addrs := make(chan map[string]string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	r := &cmdRun{code: make(chan int, 1), cancel: cancel}
	e := &env{stdout: &r.stdout, stderr: &r.stderr, hup: w.hup, ready: func(a map[string]string) { addrs <- a }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.code <- run(ctx, []string{"serve", "--config", w.cfg}, e)
	}()
	// Stop and wait before the temporary directory goes: a stop still
	// writes last-login times into the store.
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("oauthbridge log:\n%s", tail(r.stderr.String(), 6000))
		}
	})
	w.run = r
	select {
	case w.addrs = <-addrs:
	case c := <-r.code:
		t.Fatalf("serve exited %d:\n%s", c, r.stderr.String())
	}
}

// reload sends a hangup and waits for the log line that answers it.
func (w *opsWorld) reload(t *testing.T, want string) {
	t.Helper()
	n := strings.Count(w.run.stderr.String(), want)
	w.hup <- syscall.SIGHUP
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(w.run.stderr.String(), want) == n {
		if time.Now().After(deadline) {
			t.Fatalf("no %q after the reload:\n%s", want, w.run.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// scrape fetches and parses /metrics, and returns the raw text too.
func scrape(t *testing.T, httpAddr string) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return fams, string(body)
}

// value returns the value of the series of family name whose labels
// include want (a counter, gauge, or a histogram's count); -1 if absent.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	for _, m := range f.GetMetric() {
		if hasLabels(m, want) {
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return -1
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// record reads account's record from the world's store.
func (w *opsWorld) record(t *testing.T, account string) *tokenstore.Record {
	t.Helper()
	store, err := filestore.Open(filepath.Join(w.dir, "state", "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rec, err := store.Get(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// refreshToken opens account's stored grant with the test password.
func (w *opsWorld) refreshToken(t *testing.T, account string) string {
	t.Helper()
	rec := w.record(t, account)
	g, err := tokenstore.Open(tokenstore.DeriveKey([]byte(testPassword), rec.KDF), account, rec.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	return g.RefreshToken
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

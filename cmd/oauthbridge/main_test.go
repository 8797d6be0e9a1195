package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/internal/testidp"
)

func TestVersion(t *testing.T) {
	r := start(t, nil, nil, "version")
	if c := r.wait(t); c != 0 {
		t.Fatalf("exit %d", c)
	}
	out := r.stdout.String()
	if !strings.HasPrefix(out, "oauthbridge dev (") || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("version output %q", out)
	}
}

func TestUsage(t *testing.T) {
	if c := start(t, nil, nil).wait(t); c != 2 {
		t.Errorf("no args: exit %d", c)
	}
	r := start(t, nil, nil, "frobnicate")
	if c := r.wait(t); c != 2 || !strings.Contains(r.stderr.String(), `unknown command "frobnicate"`) {
		t.Errorf("unknown: exit %d, %q", c, r.stderr.String())
	}
	r = start(t, nil, nil, "help")
	if c := r.wait(t); c != 0 || !strings.Contains(r.stdout.String(), "authorize") {
		t.Errorf("help: exit %d, %q", c, r.stdout.String())
	}
	r = start(t, nil, nil, "serve", "--bogus")
	if c := r.wait(t); c != 2 {
		t.Errorf("bad flag: exit %d", c)
	}
}

func TestServeStartsAndStops(t *testing.T) {
	dir := isolate(t)
	idp := testidp.New(t)
	cfg := labConfig(t, dir, idp)
	addrs := make(chan map[string]string, 1)
	r := start(t, nil, func(a map[string]string) { addrs <- a }, "serve", "--config", cfg)
	var a map[string]string
	select {
	case a = <-addrs:
	case c := <-r.code:
		t.Fatalf("serve exited %d:\n%s", c, r.stderr.String())
	}
	names := []string{"http"}
	for name := range frontEnds {
		names = append(names, name)
	}
	if len(names) < 5 {
		t.Fatalf("front ends wired: %v", names)
	}
	for _, name := range names {
		if a[name] == "" {
			t.Errorf("listener %s not up: %v", name, a)
		}
	}
	checkGreetings(t, dir, a)
	r.cancel()
	if code := r.wait(t); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, r.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "cert.pem")); err != nil {
		t.Errorf("self-signed certificate not kept: %v", err)
	}
	if r.stdout.String() != "" {
		t.Errorf("serve with a config printed first-run text:\n%s", r.stdout.String())
	}
	if log := r.stderr.String(); !strings.Contains(log, `"msg":"stopped"`) {
		t.Errorf("no stop in log:\n%s", log)
	}
}

func TestServeBadConfigNamesTheKey(t *testing.T) {
	dir := isolate(t)
	path := filepath.Join(dir, "bad.yaml")
	os.WriteFile(path, []byte("providers:\n  lab:\n    issuer: \"http://127.0.0.1:1\"\n    client_id: x\n    imap: {addr: \"127.0.0.1:1\", tls: tsl}\n"), 0o600)
	r := start(t, nil, nil, "serve", "--config", path)
	if c := r.wait(t); c != 1 {
		t.Fatalf("exit %d", c)
	}
	if e := r.stderr.String(); !strings.Contains(e, `bad.yaml:5: providers.lab.imap.tls: must be "implicit" or "starttls" (got "tsl")`) {
		t.Fatalf("stderr %q", e)
	}
	r = start(t, nil, nil, "serve", "--config", filepath.Join(dir, "missing.yaml"))
	if c := r.wait(t); c != 1 || !strings.Contains(r.stderr.String(), "--config") {
		t.Fatalf("missing config: exit %d %q", c, r.stderr.String())
	}
}

func TestServePortInUseNamesTheListener(t *testing.T) {
	dir := isolate(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte("state_dir: s\nlisten: {pop3: \""+busy.Addr().String()+"\"}\n"), 0o600)
	r := start(t, nil, nil, "serve", "--config", path)
	if c := r.wait(t); c != 1 || !strings.Contains(r.stderr.String(), "listen.pop3:") {
		t.Fatalf("exit %d, stderr %q", c, r.stderr.String())
	}
}

func TestFirstRun(t *testing.T) {
	dir := isolate(t)
	if _, path, err := loadConfig(""); err != nil || path != "" {
		t.Fatalf("loadConfig without files: path %q err %v", path, err)
	}
	cfg := config.Default()
	// The built-in ports may be taken on a shared machine: same defaults,
	// ephemeral ports.
	cfg.Listen = config.Listen{IMAP: "127.0.0.1:0", IMAPS: "127.0.0.1:0", HTTP: "127.0.0.1:0"}
	log, _ := newLogger("info", "console", &syncBuffer{})
	var out syncBuffer
	e := &env{stdout: &out, stderr: &syncBuffer{}}
	ctx, cancel := contextWithReady(e)
	defer cancel()
	if code := serve(ctx, e, cfg, "", log); code != 0 {
		t.Fatalf("exit %d", code)
	}
	text := out.String()
	starter := filepath.Join(dir, "config", "oauthbridge", "oauthbridge.yaml")
	for _, want := range []string{
		"built-in defaults", filepath.Join(dir, "state", "oauthbridge"), "No provider is configured",
		"starter configuration", starter, "oauthbridge authorize", "IMAP, SSL/TLS:", "IMAP, STARTTLS:",
		"self-signed certificate",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("first-run text lacks %q:\n%s", want, text)
		}
	}
	// The starter file loads, and behaves like the default until edited.
	loaded, err := config.Load(starter)
	if err != nil {
		t.Fatalf("starter config: %v", err)
	}
	if len(loaded.Providers) != 0 || loaded.StateDir != cfg.StateDir {
		t.Errorf("starter: providers %v state_dir %q", loaded.Providers, loaded.StateDir)
	}
	if st, _ := os.Stat(starter); st.Mode().Perm() != 0o600 {
		t.Errorf("starter mode %v", st.Mode().Perm())
	}
	// Found on the next start, so "edit and restart" works.
	if _, path, err := loadConfig(""); err != nil || path != starter {
		t.Fatalf("restart finds %q, %v", path, err)
	}
}

// checkGreetings connects to every mail listener the way a client would
// (TLS from the first byte on the implicit ports, trusting the generated
// certificate) and checks the protocol's greeting.
func checkGreetings(t *testing.T, dir string, a map[string]string) {
	t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join(dir, "state", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemBytes)
	greetings := map[string]string{"imap": "* OK", "imaps": "* OK", "pop3": "+OK", "pop3s": "+OK", "smtp": "220 ", "smtps": "220 "}
	for name, want := range greetings {
		var c net.Conn
		if strings.HasSuffix(name, "s") {
			c, err = tls.Dial("tcp", a[name], &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
		} else {
			c, err = net.Dial("tcp", a[name])
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		greeting, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if !strings.HasPrefix(greeting, want) {
			t.Errorf("%s greeting %q, want %q...", name, greeting, want)
		}
	}
}

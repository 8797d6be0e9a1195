package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitOutput polls until the buffer contains want.
func waitOutput(t *testing.T, b *syncBuffer, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s := b.String(); strings.Contains(s, want) {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("output never contained %q:\n%s", want, b.String())
	return ""
}

// isolate points every per-user directory at a temporary one, so tests
// never read or write the real user's files.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	t.Chdir(dir)
	return dir
}

// labConfig writes a configuration with every listener on an ephemeral
// loopback port and one provider backed by idp; it returns its path.
func labConfig(t *testing.T, dir string, idp *testidp.IdP) string {
	t.Helper()
	yml := `state_dir: state
listen: {imap: "127.0.0.1:0", imaps: "127.0.0.1:0", pop3: "127.0.0.1:0", pop3s: "127.0.0.1:0", smtp: "127.0.0.1:0", smtps: "127.0.0.1:0", http: "127.0.0.1:0"}
public_url: "http://127.0.0.1:8025"
providers:
  lab:
    issuer: "` + idp.URL + `"
    client_id: ` + testidp.ClientID + `
    client_secret: "` + idp.ClientSecret + `"
    imap: {addr: "127.0.0.1:1", tls: plain}
    pop3: {addr: "127.0.0.1:1", tls: plain}
    smtp: {addr: "127.0.0.1:1", tls: plain}
accounts:
  - {match: "*@example.test", provider: lab}
log: {level: debug, format: json}
`
	path := filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// cmdRun runs the CLI in-process with the given stdin.
type cmdRun struct {
	stdout, stderr syncBuffer
	code           chan int
	cancel         context.CancelFunc
	done           chan struct{} // closed when the command has returned
}

func start(t *testing.T, stdin io.Reader, ready func(map[string]string), args ...string) *cmdRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &cmdRun{code: make(chan int, 1), cancel: cancel, done: make(chan struct{})}
	e := &env{stdin: stdin, stdout: &r.stdout, stderr: &r.stderr, ready: ready}
	go func() { r.code <- run(ctx, args, e); close(r.done) }()
	// Stop the command and wait for it before the test's temporary
	// directories are removed: a stopping serve still writes its state.
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Errorf("command did not stop within 30 s of the test's end")
		}
	})
	return r
}

// wait returns the exit code, failing the test if the command hangs.
func (r *cmdRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case c := <-r.code:
		return c
	case <-time.After(60 * time.Second):
		t.Fatalf("command did not finish\nstdout:\n%s\nstderr:\n%s", r.stdout.String(), r.stderr.String())
		return -1
	}
}

// contextWithReady returns a context that ends as soon as serve reports
// it is ready, so a test sees one complete start and stop.
func contextWithReady(e *env) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	e.ready = func(map[string]string) { cancel() }
	return ctx, cancel
}

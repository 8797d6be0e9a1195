package doctor

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunnerReportsEachStep(t *testing.T) {
	var out, progress bytes.Buffer
	r := &Runner{Out: &out, Progress: &progress, Tick: 20 * time.Millisecond}
	ctx := context.Background()
	if !r.Step(ctx, "first", time.Second, func(context.Context) (string, error) { return "fine", nil }) {
		t.Error("a passing step reported failure")
	}
	if r.Step(ctx, "second", time.Second, func(context.Context) (string, error) {
		return "", withHint(errors.New("broken\r\nline"), "fix it")
	}) {
		t.Error("a failing step reported success")
	}
	r.Step(ctx, "slow", time.Second, func(ctx context.Context) (string, error) {
		time.Sleep(120 * time.Millisecond)
		return "", &warning{detail: "odd", hint: "look"}
	})
	r.Step(ctx, "deadline", 10*time.Millisecond, func(ctx context.Context) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	})
	r.Skipped("account", "no password")
	want := "[PASS] first: fine\n[FAIL] second: broken  line\n       hint: fix it\n[WARN] slow: odd\n       hint: look\n[FAIL] deadline: context deadline exceeded\n[SKIP] account: no password\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if !strings.Contains(progress.String(), "still checking slow") {
		t.Errorf("no progress for the slow step: %q", progress.String())
	}
	if r.Count(Fail) != 2 || r.Count(Pass) != 1 || r.Count(Warn) != 1 || r.Count(Skip) != 1 {
		t.Errorf("counts: %+v", r.Results())
	}
}

func TestStateDirPermissions(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if _, err := StateDir(state); err == nil || !strings.Contains(hintOf(err), "first `oauthbridge serve`") {
		t.Errorf("missing dir: %v (%s)", err, hintOf(err))
	}
	os.Mkdir(state, 0o755)
	os.Chmod(state, 0o755)
	if _, err := StateDir(state); err == nil || hintOf(err) != "chmod 700 "+state {
		t.Errorf("open dir: %v (%s)", err, hintOf(err))
	}
	os.Chmod(state, 0o700)
	os.WriteFile(filepath.Join(state, "tokens.json"), []byte("{}"), 0o644)
	if _, err := StateDir(state, "tokens.json", "key.pem"); err == nil || !strings.Contains(hintOf(err), "chmod 600") {
		t.Errorf("readable store: %v (%s)", err, hintOf(err))
	}
	os.Chmod(filepath.Join(state, "tokens.json"), 0o600)
	if detail, err := StateDir(state, "tokens.json", "key.pem"); err != nil || !strings.Contains(detail, "mode 0700") {
		t.Errorf("good dir: %q, %v", detail, err)
	}
}

func hintOf(err error) string {
	var h *hinted
	if errors.As(err, &h) {
		return h.hint
	}
	return ""
}

//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// env is the shared world; nil when the suite is skipped.
var (
	env        *Env
	skipReason string
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	dexBin, dovecotBin, err := Binaries()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			fmt.Fprintf(os.Stderr, "FAIL: integration suite required (%s=1) but %v\n", EnvRequire, err)
			return 1
		}
		skipReason = fmt.Sprintf("integration suite skipped: %v (set %s=1 to make this a failure)", err, EnvRequire)
		fmt.Fprintln(os.Stderr, "SKIP: "+skipReason)
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	e, err := StartEnv(ctx, dexBin, dovecotBin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: integration environment: %v\n%s\n", err, e.Logs())
		e.Stop()
		return 1
	}
	env = e
	fmt.Fprintf(os.Stderr, "integration: Dex %s (%s), Dovecot %s, ready in %s, dir %s\n",
		dexBin, e.Dex.URL, dovecotBin, time.Since(start).Round(time.Millisecond), e.Dir)
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "integration: server logs at failure:\n%s\n", e.Logs())
		if world != nil {
			fmt.Fprintf(os.Stderr, "--- oauthbridge log ---\n%s\n", world.Bridge.LogTail(6000))
		}
	}
	stopWorld()
	if world != nil && strings.Contains(world.Bridge.Log(), "WARNING: DATA RACE") {
		// The daemon is built with -race when the suite is: a race in it
		// must fail the run even though every client saw the right bytes.
		fmt.Fprintf(os.Stderr, "FAIL: the oauthbridge daemon reported a data race:\n%s\n", world.Bridge.LogTail(8000))
		code = 1
	}
	e.Stop()
	return code
}

// needEnv returns the shared environment, or skips the test with the
// reason the suite cannot run here.
func needEnv(t *testing.T) *Env {
	t.Helper()
	if env == nil {
		t.Skip(skipReason)
	}
	return env
}

// testCtx is a context bounded by d and the test's lifetime.
func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

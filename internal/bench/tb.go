package bench

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// TB lets a plain program use helpers written for tests (testidp.New,
// imaptest.Start), which take a testing.TB so they can stop what they
// started when the test ends. It implements the methods those helpers
// call; the embedded interface is nil and only satisfies testing.TB's
// unexported method, so any other method panics, which the command turns
// into an error exit after running the cleanups.
type TB struct {
	testing.TB

	mu       sync.Mutex
	cleanups []func()
	dir      int
}

// Fatal is what TB panics with when a helper gives up.
type Fatal struct{ Msg string }

func (f Fatal) Error() string { return f.Msg }

// NewTB returns a TB whose cleanups run at Close.
func NewTB() *TB { return &TB{} }

// Helper does nothing: there is no test output to attribute lines to.
func (t *TB) Helper() {}

// Name names the run for helpers that label things with it.
func (t *TB) Name() string { return "bridgebench" }

// Cleanup registers f to run at Close, last registered first.
func (t *TB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// Fatal stops the run by panicking with a Fatal.
func (t *TB) Fatal(args ...any) { panic(Fatal{fmt.Sprint(args...)}) }

// Fatalf stops the run by panicking with a Fatal.
func (t *TB) Fatalf(format string, args ...any) { panic(Fatal{fmt.Sprintf(format, args...)}) }

// Error is fatal too: a benchmark with a broken fixture measures nothing.
func (t *TB) Error(args ...any) { t.Fatal(args...) }

// Errorf is fatal too.
func (t *TB) Errorf(format string, args ...any) { t.Fatalf(format, args...) }

// Log writes to standard error.
func (t *TB) Log(args ...any) { fmt.Fprintln(os.Stderr, args...) }

// Logf writes to standard error.
func (t *TB) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

// Failed is always false: failures panic.
func (t *TB) Failed() bool { return false }

// TempDir makes a directory removed at Close.
func (t *TB) TempDir() string {
	dir, err := os.MkdirTemp("", "bridgebench-")
	if err != nil {
		t.Fatalf("temp dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Close runs the cleanups, last registered first.
func (t *TB) Close() {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

package main

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestServiceOutsideWindows: the service subcommand says it is for
// Windows and exits 2, for every action; bad usage exits 2 with the usage.
func TestServiceOutsideWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the Windows path needs the Service Control Manager")
	}
	isolate(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"service", "install"}, "only on Windows"},
		{[]string{"service", "install", "--config", "C:/ob.yaml"}, "only on Windows"},
		{[]string{"service", "uninstall"}, "only on Windows"},
		{[]string{"service", "start"}, "only on Windows"},
		{[]string{"service", "stop"}, "only on Windows"},
		{[]string{"service"}, "usage: oauthbridge service install"},
		{[]string{"service", "restart"}, "usage: oauthbridge service install"},
		{[]string{"service", "install", "--no-such-flag"}, "not defined"},
	} {
		var stdout, stderr strings.Builder
		code := run(context.Background(), tc.args, &env{stdout: &stdout, stderr: &stderr})
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// TestTeeLogger: with an extra core (the event log) serve's lines reach
// it at its own level; without one the logger is unchanged.
func TestTeeLogger(t *testing.T) {
	var console strings.Builder
	log, err := newLogger("debug", "json", &console)
	if err != nil {
		t.Fatal(err)
	}
	if (&env{}).teeLogger(log) != log {
		t.Fatal("teeLogger changed the logger without an extra core")
	}
	core, events := observer.New(zapcore.WarnLevel)
	tee := (&env{logCore: core}).teeLogger(log)
	tee.Info("listening")
	tee.Warn("provider unavailable")
	if events.Len() != 1 || events.All()[0].Message != "provider unavailable" {
		t.Fatalf("event log got %v, want only the warning", events.All())
	}
	if !strings.Contains(console.String(), "listening") || !strings.Contains(console.String(), "provider unavailable") {
		t.Fatalf("console lost lines: %s", console.String())
	}
}

// TestTailWriter keeps only the end of what a failing service printed.
func TestTailWriter(t *testing.T) {
	w := &tailWriter{max: 8}
	w.Write([]byte("0123456789"))
	w.Write([]byte("ab"))
	if got := w.String(); got != "456789ab" {
		t.Fatalf("tail %q, want 456789ab", got)
	}
}

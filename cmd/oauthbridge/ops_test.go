package main

import (
	"errors"
	"fmt"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// A refusal whose text the hint table knows gets a log line with the
// hint for the admin, on the session's logger; other failures do not.
func TestLoginObserverLogsHints(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	s := &proxy.Session{Listener: "imap", Log: zap.New(core)}
	obs := loginObserver{newOps()}
	obs.LoginDone(s, fmt.Errorf("imap upstream outlook.office365.com:993: %w: Request is throttled. Suggested Backoff Time: 1000 milliseconds", upstream.ErrUnavailable))
	obs.LoginDone(s, errors.New("something else"))
	obs.LoginDone(s, nil)
	entries := logs.FilterMessage("provider message recognised").All()
	if len(entries) != 1 {
		t.Fatalf("%d hint lines, want 1: %v", len(entries), logs.All())
	}
	if f := entries[0].ContextMap(); f["hint_id"] != "ms_throttled" || f["hint"] == "" {
		t.Errorf("hint fields %v", f)
	}
}

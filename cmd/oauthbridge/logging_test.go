package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
)

func TestNewLogger(t *testing.T) {
	var b syncBuffer
	log, err := newLogger("warn", "json", &b)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown")
	var entry map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(b.String())), &entry); err != nil || entry["msg"] != "shown" {
		t.Fatalf("json log %q: %v", b.String(), err)
	}
	if _, err := newLogger("loud", "json", &b); err == nil {
		t.Error("bad level accepted")
	}
	if _, err := newLogger("info", "xml", &b); err == nil {
		t.Error("bad format accepted")
	}
}

func TestServeLogFlagsOverrideConfig(t *testing.T) {
	dir := isolate(t)
	r := start(t, nil, nil, "serve", "--config", labConfig(t, dir, testidp.New(t)), "--log-format", "yaml")
	if c := r.wait(t); c != 2 || !strings.Contains(r.stderr.String(), `log format "yaml"`) {
		t.Fatalf("exit %d stderr %q", c, r.stderr.String())
	}
}

package winservice

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

type event struct {
	kind string
	eid  uint32
	msg  string
}

type fakeLog struct{ events []event }

func (f *fakeLog) add(kind string, eid uint32, msg string) error {
	f.events = append(f.events, event{kind, eid, msg})
	return nil
}
func (f *fakeLog) Info(eid uint32, msg string) error    { return f.add("info", eid, msg) }
func (f *fakeLog) Warning(eid uint32, msg string) error { return f.add("warning", eid, msg) }
func (f *fakeLog) Error(eid uint32, msg string) error   { return f.add("error", eid, msg) }
func (f *fakeLog) Close() error                         { return nil }

func TestEventCore(t *testing.T) {
	fl := &fakeLog{}
	log := zap.New(EventCore(fl, zapcore.InfoLevel)).Named("serve").With(zap.String("listener", "imap"))
	log.Debug("not written")
	log.Info("listening", zap.String("addr", "127.0.0.1:1143"))
	log.Warn("plaintext", zap.Int("n", 2))
	log.Error("store unreachable", zap.Error(errors.New("dial tcp: refused")))
	want := []event{
		{"info", EventInfo, `serve listening {"listener": "imap", "addr": "127.0.0.1:1143"}` + "\n"},
		{"warning", EventWarning, `serve plaintext {"listener": "imap", "n": 2}` + "\n"},
		{"error", EventError, `serve store unreachable {"listener": "imap", "error": "dial tcp: refused"}` + "\n"},
	}
	if fmt.Sprint(fl.events) != fmt.Sprint(want) {
		t.Fatalf("events:\n%+v\nwant\n%+v", fl.events, want)
	}
}

type failingLog struct{ fakeLog }

func (f *failingLog) Warning(uint32, string) error { return errors.New("event log full") }

func TestEventCoreWriteError(t *testing.T) {
	core := EventCore(&failingLog{}, zapcore.WarnLevel)
	err := core.Write(zapcore.Entry{Level: zapcore.WarnLevel, Message: "x"}, nil)
	if err == nil || !strings.Contains(err.Error(), "event log full") {
		t.Fatalf("Write: err = %v, want the event log's error", err)
	}
}

func TestOtherSystems(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stubs are for other systems")
	}
	if ok, err := IsService(); ok || err != nil {
		t.Fatalf("IsService = %v, %v; want false, nil", ok, err)
	}
	for name, err := range map[string]error{
		"Install":         Install(Config{Exe: "/usr/local/bin/oauthbridge"}),
		"Uninstall":       Uninstall(DefaultName),
		"Start":           Start(DefaultName),
		"Stop":            Stop(context.Background(), DefaultName),
		"Run":             Run(DefaultName, func(context.Context) error { return nil }),
		"PrepareStateDir": PrepareStateDir("/tmp/x", DefaultName),
	} {
		if !errors.Is(err, ErrNotWindows) {
			t.Errorf("%s: err = %v, want ErrNotWindows", name, err)
		}
	}
}

func TestConfigNormalize(t *testing.T) {
	c := Config{Exe: `relative\oauthbridge.exe`}
	if err := c.normalize(); err == nil {
		t.Fatal("a relative executable path was accepted")
	}
	c = Config{Exe: "/opt/oauthbridge"}
	if runtime.GOOS == "windows" {
		c.Exe = `C:\Program Files\oauthbridge\oauthbridge.exe`
	}
	if err := c.normalize(); err != nil || c.Name != DefaultName || c.DisplayName == "" || c.Description == "" {
		t.Fatalf("normalize: %+v, %v", c, err)
	}
}

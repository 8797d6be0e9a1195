package filestore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/storetest"
)

func openT(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tokenstore.Store {
		return openT(t, filepath.Join(t.TempDir(), DefaultName))
	})
}

// TestConformanceTwoInstances runs the suite over two stores on one file,
// as two processes sharing the state directory would.
func TestConformanceTwoInstances(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tokenstore.Store {
		path := filepath.Join(t.TempDir(), DefaultName)
		return storetest.Pair(openT(t, path), openT(t, path))
	})
}

func record(account string) *tokenstore.Record {
	return &tokenstore.Record{Account: account, Provider: "lab", Status: tokenstore.StatusOK, Sealed: []byte{1, 2, 3}}
}

func TestReopenKeepsRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultName)
	s := openT(t, path)
	if err := s.Put(context.Background(), record("alice@example.com")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Get(context.Background(), "alice@example.com"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: err = %v, want ErrClosed", err)
	}
	r, err := openT(t, path).Get(context.Background(), "alice@example.com")
	if err != nil || r.Provider != "lab" || r.Version != 1 {
		t.Fatalf("after reopen: %+v, %v", r, err)
	}
}

func TestPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	dir := filepath.Join(t.TempDir(), "state", "nested")
	s := openT(t, filepath.Join(dir, DefaultName))
	if err := s.Put(context.Background(), record("alice@example.com")); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		dir:                                    0o700 | os.ModeDir,
		s.Path():                               0o600,
		s.Path() + ".lock":                     0o600,
		s.Path() + ".locks":                    0o700 | os.ModeDir,
		s.accountLockPath("alice@example.com"): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
		}
	}
}

// TestCrashBeforeRename simulates a crash after the temporary file was
// written but before it replaced the store: the old state must survive.
func TestCrashBeforeRename(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultName)
	s := openT(t, path)
	if err := s.Put(context.Background(), record("alice@example.com")); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("simulated crash")
	testHookBeforeRename = func() error { return crash }
	err := s.Put(context.Background(), record("bob@example.com"))
	testHookBeforeRename = nil
	if !errors.Is(err, crash) {
		t.Fatalf("Put: err = %v, want the simulated crash", err)
	}
	stray := filepath.Join(filepath.Dir(path), tempPrefix(DefaultName)+"123456")
	if err := os.WriteFile(stray, []byte(`{"format":1,"records":[{"acc`), 0o600); err != nil {
		t.Fatal(err)
	}
	rs, err := openT(t, path).List(context.Background())
	if err != nil || len(rs) != 1 || rs[0].Account != "alice@example.com" {
		t.Fatalf("after crash: %d records, %v; want alice only", len(rs), err)
	}
	if _, err := os.Stat(stray); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stray temporary file not removed at Open: %v", err)
	}
}

func TestCorruptFile(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":    "\x00\x01garbage",
		"empty":      "",
		"truncated":  `{"format":1,"records":[{"account":"a@example.com"`,
		"trailing":   `{"format":1,"records":[]} {}`,
		"format":     `{"format":2,"records":[]}`,
		"noformat":   `{"records":[]}`,
		"noaccount":  `{"format":1,"records":[{"provider":"lab"}]}`,
		"nullrecord": `{"format":1,"records":[null]}`,
		"duplicate":  `{"format":1,"records":[{"account":"a"},{"account":"a"}]}`,
		"wrongtype":  `{"format":1,"records":{"account":"a"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), DefaultName)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Open: err = %v, want ErrCorrupt naming the file", err)
			}
		})
	}
}

// TestCorruptedWhileOpen: damage appearing under a running store is an
// error, not an empty store, and the store recovers once the file is good.
func TestCorruptedWhileOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultName)
	s := openT(t, path)
	if err := s.Put(context.Background(), record("alice@example.com")); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	replace(t, path, []byte("not json"))
	if _, err := s.List(context.Background()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("List of damaged file: err = %v, want ErrCorrupt", err)
	}
	if err := s.Put(context.Background(), record("bob@example.com")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Put over damaged file: err = %v, want ErrCorrupt", err)
	}
	replace(t, path, good)
	if _, err := s.Get(context.Background(), "alice@example.com"); err != nil {
		t.Fatalf("after repair: %v", err)
	}
}

// replace swaps the file the way an editor or another writer would.
func replace(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".edit"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestSeesOtherWriter: a second instance notices writes of the first at
// once, even many in quick succession (same size, same mtime tick).
func TestSeesOtherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultName)
	a, b := openT(t, path), openT(t, path)
	ctx := context.Background()
	if err := a.Put(ctx, record("alice@example.com")); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := a.Update(ctx, "alice@example.com", func(r *tokenstore.Record) error {
			r.Sealed[0]++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		r, err := b.Get(ctx, "alice@example.com")
		if err != nil || r.Version != int64(i+2) {
			t.Fatalf("write %d: b sees Version %d (%v)", i, r.Version, err)
		}
	}
}

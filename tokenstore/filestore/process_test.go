package filestore

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// helperEnv carries the store path to a child process of TestCrossProcess.
const helperEnv = "FILESTORE_TEST_HELPER_PATH"

func incrementReason(r *tokenstore.Record) error {
	n, err := strconv.Atoi(r.StatusReason)
	if err != nil {
		return err
	}
	r.StatusReason = strconv.Itoa(n + 1)
	return nil
}

// TestHelperProcess is not a test: TestCrossProcess runs the test binary
// again with helperEnv set, and this function then plays another process.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper for TestCrossProcess")
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	own := record(fmt.Sprintf("own%d@example.com", os.Getpid()))
	own.StatusReason = "0"
	if err := s.Put(context.Background(), own); err != nil {
		t.Fatal(err)
	}
	for range 15 {
		for _, a := range []string{"shared@example.com", fmt.Sprintf("own%d@example.com", os.Getpid())} {
			if err := s.Update(context.Background(), a, incrementReason); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestCrossProcess runs real processes against one file: no increment of
// the shared account, and no write of any process's own account, is lost.
func TestCrossProcess(t *testing.T) {
	if !holdOpen {
		t.Skip("file locks are in-process only on this system")
	}
	path := filepath.Join(t.TempDir(), DefaultName)
	s := openT(t, path)
	ctx := context.Background()
	shared := record("shared@example.com")
	shared.StatusReason = "0"
	if err := s.Put(ctx, shared); err != nil {
		t.Fatal(err)
	}
	const children = 3
	var wg sync.WaitGroup
	cmds := make([]*exec.Cmd, children)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmds[i].Env = append(os.Environ(), helperEnv+"="+path)
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cmds {
		wg.Go(func() {
			if err := c.Wait(); err != nil {
				t.Errorf("child %d: %v", c.Process.Pid, err)
			}
		})
	}
	for range 15 {
		if err := s.Update(ctx, "shared@example.com", incrementReason); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	r, err := s.Get(ctx, "shared@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(15 * (children + 1)); r.StatusReason != want {
		t.Fatalf("shared counter = %s, want %s", r.StatusReason, want)
	}
	for _, c := range cmds {
		r, err := s.Get(ctx, fmt.Sprintf("own%d@example.com", c.Process.Pid))
		if err != nil || r.StatusReason != "15" {
			t.Errorf("child %d's own counter = %v (%v), want 15", c.Process.Pid, r, err)
		}
	}
}

package postgres_test

import (
	"bytes"
	"context"
	"github.com/oauthbridge/oauthbridge/tokenstore/postgres/pgtest"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
	"github.com/oauthbridge/oauthbridge/tokenstore/postgres"
)

// Environment of the child replica of TestKillMidRefresh.
const (
	childIdPEnv    = "OAUTHBRIDGE_PG_TEST_CHILD_IDP"
	childSecretEnv = "OAUTHBRIDGE_PG_TEST_CHILD_SECRET"
)

// TestKilledReplicaHelper is not a test: TestKillMidRefresh runs the test
// binary again with childIdPEnv set, and this function then plays a
// replica that takes the row lock, starts a refresh and is killed in it.
func TestKilledReplicaHelper(t *testing.T) {
	idpURL := os.Getenv(childIdPEnv)
	if idpURL == "" {
		t.Skip("helper process for TestKillMidRefresh")
	}
	ctx := context.Background()
	s, err := postgres.Open(ctx, os.Getenv(pgtest.DSNEnv))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.Get(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	p := &broker.Provider{Name: "lab", OAuth2: idpConfig(idpURL, os.Getenv(childSecretEnv)),
		HTTPClient: &http.Client{Timeout: 10 * time.Minute}}
	b := newBroker(s, p, nil)
	b.RefreshTimeout = 10 * time.Minute // only SIGKILL ends this refresh
	_, err = b.AccessToken(ctx, alice, tokenstore.DeriveKey([]byte(password), rec.KDF))
	t.Fatalf("the helper should have been killed mid-refresh, but AccessToken returned (err %v)", err)
}

// TestKillMidRefresh: a replica is killed (SIGKILL) while it holds the
// account's row lock, in the middle of a refresh. PostgreSQL drops its
// connection and lock; the replica that was waiting for the lock carries
// on, refreshes with the stored refresh token, and nothing is lost.
func TestKillMidRefresh(t *testing.T) {
	r := newReplicas(t)
	first := r.consent()
	key := r.key()
	r.idp.SetDelay(10 * time.Minute) // the child's refresh hangs until it dies
	c := startChild(t, r)
	waitFor(t, "the child's refresh to reach the IdP", c, func() bool { return r.idp.RefreshRequests() == 1 })

	type result struct {
		tok broker.Token
		err error
	}
	got := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		tok, err := r.access(r.b, ctx, key)
		got <- result{tok, err}
	}()
	waitForLockWaiter(t, r.dsn) // replica B queues behind the child's lock
	r.idp.SetDelay(0)
	if err := c.cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup runs in the child
		t.Fatal(err)
	}
	<-c.done
	if code := c.cmd.ProcessState.ExitCode(); code != -1 {
		t.Fatalf("the child exited with %d instead of dying by the signal:\n%s", code, &c.out)
	}

	var res result
	select {
	case res = <-got:
	case <-time.After(2 * time.Minute):
		t.Fatal("replica B still waits after the lock holder was killed")
	}
	if res.err != nil {
		t.Fatalf("replica B after the kill: %v", res.err)
	}
	if email, ok := r.idp.Validate(res.tok.AccessToken); !ok || email != alice {
		t.Fatal("replica B's token is not valid at the IdP")
	}
	if n := r.idp.RefreshRequests(); n != 2 {
		t.Fatalf("%d refresh requests, want 2 (the killed one and B's)", n)
	}
	rec, g := r.stored()
	if latest := r.idp.LatestRefreshToken(alice); g.RefreshToken != latest || latest == first || g.AccessToken != res.tok.AccessToken {
		t.Fatal("the database does not hold the grant of B's refresh")
	}
	if rec.Version != 2 || rec.Status != tokenstore.StatusOK {
		t.Fatalf("record version %d status %s, want 2 and ok (nothing of the killed replica written)", rec.Version, rec.Status)
	}
}

// child is the test binary running as a replica (TestKilledReplicaHelper).
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited; err and out are then final
	err  error
	out  bytes.Buffer
}

func startChild(t *testing.T, r *replicas) *child {
	t.Helper()
	c := &child{done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestKilledReplicaHelper$", "-test.count=1", "-test.v")
	c.cmd.Env = append(os.Environ(), childIdPEnv+"="+r.idp.URL, childSecretEnv+"="+r.idp.ClientSecret, pgtest.DSNEnv+"="+r.dsn)
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// waitFor polls cond until it holds, failing the test if the child exits
// first or nothing happens within a generous bound.
func waitFor(t *testing.T, what string, c *child, cond func() bool) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for !cond() {
		select {
		case <-c.done:
			t.Fatalf("child exited (%v) before %s:\n%s", c.err, what, &c.out)
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

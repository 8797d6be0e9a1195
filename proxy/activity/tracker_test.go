package activity

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

type handlerFunc func(ctx context.Context, conn net.Conn, s *proxy.Session)

func (f handlerFunc) ServeConn(ctx context.Context, conn net.Conn, s *proxy.Session) { f(ctx, conn, s) }

// serve runs one session through the tracker's wrapper; login sets the
// account (as a front end does) and reports the attempt, then the session
// waits for release.
func serve(tr *Tracker, listener, account string, loginErr error, release <-chan struct{}) (started, ended chan struct{}) {
	started, ended = make(chan struct{}), make(chan struct{})
	h := tr.Wrap(handlerFunc(func(_ context.Context, _ net.Conn, s *proxy.Session) {
		s.Account = account
		tr.LoginDone(s, loginErr)
		close(started)
		<-release
	}))
	go func() {
		h.ServeConn(context.Background(), nil, &proxy.Session{Listener: listener})
		close(ended)
	}()
	return started, ended
}

func TestActiveSessionsAndLastLogin(t *testing.T) {
	tr := New()
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tr.now = func() time.Time { return at }
	release := make(chan struct{})
	var ends []chan struct{}
	for _, s := range []struct {
		account string
		err     error
	}{{"alice@example.test", nil}, {"alice@example.test", nil}, {"bob@example.test", login.ErrBadCredentials}} {
		started, ended := serve(tr, "imap", s.account, s.err, release)
		<-started
		ends = append(ends, ended)
	}
	if got := tr.Active(); len(got) != 1 || got["alice@example.test"] != 2 {
		t.Errorf("Active() = %v, want alice twice and bob (failed) not at all", got)
	}
	if tr.Open() != 3 {
		t.Errorf("Open() = %d, want 3", tr.Open())
	}
	close(release)
	for _, e := range ends {
		<-e
	}
	if got := tr.Active(); len(got) != 0 || tr.Open() != 0 {
		t.Errorf("after the sessions ended: Active() = %v, Open() = %d", got, tr.Open())
	}
	last := tr.LastLogins()
	if !last["alice@example.test"].Equal(at) || !last["bob@example.test"].IsZero() {
		t.Errorf("LastLogins() = %v", last)
	}
}

func openStore(t *testing.T) *filestore.Store {
	t.Helper()
	s, err := filestore.Open(filepath.Join(t.TempDir(), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Flush writes each changed last login once, never moves it back, and
// forgets accounts that no longer exist.
func TestFlushWritesChangedLastLogins(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	later := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	for _, r := range []*tokenstore.Record{
		{Account: "alice@example.test", Provider: "lab", Status: tokenstore.StatusOK},
		{Account: "bob@example.test", Provider: "lab", Status: tokenstore.StatusOK, LastLogin: later},
	} {
		if err := store.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tr := New()
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tr.now = func() time.Time { return at }
	for _, a := range []string{"alice@example.test", "bob@example.test", "gone@example.test"} {
		tr.LoginDone(&proxy.Session{Account: a}, nil)
	}
	if err := tr.Flush(ctx, store); err != nil {
		t.Fatal(err)
	}
	alice, _ := store.Get(ctx, "alice@example.test")
	bob, _ := store.Get(ctx, "bob@example.test")
	if !alice.LastLogin.Equal(at) || !bob.LastLogin.Equal(later) {
		t.Errorf("stored last logins: alice %s (want %s), bob %s (want %s, newer than ours)", alice.LastLogin, at, bob.LastLogin, later)
	}
	version := alice.Version
	if err := tr.Flush(ctx, store); err != nil {
		t.Fatal(err)
	}
	if again, _ := store.Get(ctx, "alice@example.test"); again.Version != version {
		t.Error("a flush with nothing new wrote the record again")
	}
}

// failingStore fails every Update, like a database that went away.
type failingStore struct{ tokenstore.Store }

func (failingStore) Update(context.Context, string, func(*tokenstore.Record) error) error {
	return errors.New("connection refused")
}

func TestFailedFlushIsRetried(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	store.Put(ctx, &tokenstore.Record{Account: "alice@example.test", Provider: "lab", Status: tokenstore.StatusOK})
	tr := New()
	tr.LoginDone(&proxy.Session{Account: "alice@example.test"}, nil)
	if err := tr.Flush(ctx, failingStore{store}); err == nil {
		t.Fatal("a failed write was not reported")
	}
	if err := tr.Flush(ctx, store); err != nil {
		t.Fatal(err)
	}
	if r, _ := store.Get(ctx, "alice@example.test"); r.LastLogin.IsZero() {
		t.Error("the login time was lost after a failed flush")
	}
}

// Run flushes once more when its context ends, so a clean stop keeps the
// last logins.
func TestRunFlushesAtStop(t *testing.T) {
	store := openStore(t)
	store.Put(context.Background(), &tokenstore.Record{Account: "alice@example.test", Provider: "lab", Status: tokenstore.StatusOK})
	tr := New()
	tr.LoginDone(&proxy.Session{Account: "alice@example.test"}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		tr.Run(ctx, func() tokenstore.Store { return store }, time.Hour, nil)
		close(done)
	}()
	cancel()
	<-done
	if r, _ := store.Get(context.Background(), "alice@example.test"); r.LastLogin.IsZero() {
		t.Error("Run did not flush at stop")
	}
}

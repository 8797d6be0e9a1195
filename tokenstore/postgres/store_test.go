package postgres_test

import (
	"context"
	"errors"
	"github.com/oauthbridge/oauthbridge/tokenstore/postgres/pgtest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/postgres"
	"github.com/oauthbridge/oauthbridge/tokenstore/storetest"
)

func TestConformance(t *testing.T) {
	pgtest.DSN(t)
	storetest.Run(t, func(t *testing.T) tokenstore.Store {
		return openStore(t, pgtest.Schema(t))
	})
}

// TestConformanceTwoInstances runs the suite over two stores (two pools)
// on one schema, as two replicas would share the database.
func TestConformanceTwoInstances(t *testing.T) {
	pgtest.DSN(t)
	storetest.Run(t, func(t *testing.T) tokenstore.Store {
		dsn := pgtest.Schema(t)
		return storetest.Pair(openStore(t, dsn), openStore(t, dsn))
	})
}

func record(account string) *tokenstore.Record {
	return &tokenstore.Record{Account: account, Provider: "lab", Status: tokenstore.StatusOK,
		StatusReason: "0", Sealed: []byte{1, 2, 3}}
}

func put(t *testing.T, s tokenstore.Store, r *tokenstore.Record) {
	t.Helper()
	if err := s.Put(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// TestReplicasMigrateOnce starts several replicas on an empty schema at
// the same moment: all open, and the schema is created exactly once.
func TestReplicasMigrateOnce(t *testing.T) {
	dsn := pgtest.Schema(t)
	const replicas = 6
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, replicas)
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(context.Background(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	put(t, stores[0], record("alice@example.com"))
	if r, err := stores[replicas-1].Get(context.Background(), "alice@example.com"); err != nil || r.Version != 1 {
		t.Fatalf("other replica reads %v, %v", r, err)
	}
	var versions, applied int
	pgtest.Query(t, dsn, `SELECT count(*), max(version) FROM oauthbridge_schema_version`, &applied, &versions)
	if applied != postgres.SchemaVersion() || versions != postgres.SchemaVersion() {
		t.Fatalf("schema_version has %d rows up to %d, want %d", applied, versions, postgres.SchemaVersion())
	}
}

// TestReopenKeepsRecords: a restart migrates nothing and loses nothing.
func TestReopenKeepsRecords(t *testing.T) {
	dsn := pgtest.Schema(t)
	s := openStore(t, dsn)
	put(t, s, record("alice@example.com"))
	s.Close()
	if _, err := s.Get(context.Background(), "alice@example.com"); !errors.Is(err, postgres.ErrClosed) {
		t.Fatalf("Get after Close: err = %v, want ErrClosed", err)
	}
	r, err := openStore(t, dsn).Get(context.Background(), "alice@example.com")
	if err != nil || r.Version != 1 || r.Provider != "lab" {
		t.Fatalf("after reopen: %+v, %v", r, err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	dsn := pgtest.Schema(t)
	openStore(t, dsn).Close()
	pgtest.Exec(t, dsn, `INSERT INTO oauthbridge_schema_version (version) VALUES ($1)`, postgres.SchemaVersion()+1)
	_, err := postgres.Open(context.Background(), dsn)
	if !errors.Is(err, postgres.ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
}

// TestErrorsHideDSNPassword: neither a malformed DSN nor a refused login
// puts the password into the error text.
func TestErrorsHideDSNPassword(t *testing.T) {
	const secret = "Sup3rS3cretDbPw"
	_, err := postgres.Open(context.Background(), "postgres://u:"+secret+"@127.0.0.1:notaport/db")
	if !errors.Is(err, postgres.ErrBadDSN) || strings.Contains(err.Error(), secret) {
		t.Fatalf("malformed DSN: err = %v, want ErrBadDSN without the password", err)
	}
	dsn := pgtest.DSN(t)
	if pw := dsnPassword(dsn); pw != "" {
		wrong := strings.Replace(dsn, ":"+pw+"@", ":"+secret+"@", 1)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err = postgres.Open(ctx, wrong)
		if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), pw) {
			t.Fatalf("wrong password: err = %v, want an error without either password", err)
		}
	}
}

// TestLockWaitFollowsContext: while one replica holds an account's row,
// another's Update gives up at its deadline without calling fn, and the
// holder's write still lands.
func TestLockWaitFollowsContext(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := openStore(t, dsn), openStore(t, dsn)
	put(t, a, record("alice@example.com"))
	release, done := holdRow(t, a, "alice@example.com", func(r *tokenstore.Record) { r.StatusReason = "holder" })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := b.Update(ctx, "alice@example.com", func(*tokenstore.Record) error {
		t.Error("fn called without the lock")
		return nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting Update: err = %v, want context.DeadlineExceeded", err)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r, err := b.Get(context.Background(), "alice@example.com"); err != nil || r.StatusReason != "holder" || r.Version != 2 {
		t.Fatalf("after the holder's write: %+v, %v", r, err)
	}
}

// TestWaiterSeesWinnersWrite is the refresh coordination in miniature:
// the replica that waited for the row reads what the holder committed.
func TestWaiterSeesWinnersWrite(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := openStore(t, dsn), openStore(t, dsn)
	put(t, a, record("alice@example.com"))
	release, done := holdRow(t, a, "alice@example.com", func(r *tokenstore.Record) { r.Sealed = []byte("winner's grant") })
	waited := make(chan error, 1)
	var seen []byte
	go func() {
		waited <- b.Update(context.Background(), "alice@example.com", func(r *tokenstore.Record) error {
			seen = r.Sealed
			return tokenstore.ErrNoChange
		})
	}()
	waitForLockWaiter(t, dsn)
	release()
	if err := errors.Join(<-done, <-waited); err != nil {
		t.Fatal(err)
	}
	if string(seen) != "winner's grant" {
		t.Fatalf("waiter saw %q, want the winner's grant", seen)
	}
}

// holdRow runs an Update of account on s whose fn applies change only once
// release is called, and returns when fn holds the row. The row is released
// at the latest when t ends, so a failing test cannot leave a connection
// busy and hang the store's Close.
func holdRow(t *testing.T, s tokenstore.Store, account string, change func(*tokenstore.Record)) (release func(), done <-chan error) {
	t.Helper()
	locked, released := make(chan struct{}), make(chan struct{})
	release = sync.OnceFunc(func() { close(released) })
	t.Cleanup(release)
	errs := make(chan error, 1)
	go func() {
		errs <- s.Update(context.Background(), account, func(r *tokenstore.Record) error {
			close(locked)
			<-released
			change(r)
			return nil
		})
	}()
	select {
	case <-locked:
	case err := <-errs:
		t.Fatalf("holder's Update ended before holding the row: %v", err)
	}
	return release, errs
}

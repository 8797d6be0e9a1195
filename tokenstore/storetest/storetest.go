package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// Run runs the conformance suite. open must return a new, empty store for
// each call and arrange for it to be closed when t ends.
func Run(t *testing.T, open func(t *testing.T) tokenstore.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s tokenstore.Store)
	}{
		{"GetMissing", testGetMissing},
		{"PutGet", testPutGet},
		{"PutReplaces", testPutReplaces},
		{"PutRejectsEmptyAccount", testPutRejectsEmptyAccount},
		{"PutCopies", testPutCopies},
		{"GetCopies", testGetCopies},
		{"List", testList},
		{"Update", testUpdate},
		{"UpdateMissing", testUpdateMissing},
		{"UpdateNoChange", testUpdateNoChange},
		{"UpdateError", testUpdateError},
		{"UpdateRename", testUpdateRename},
		{"UpdateCopies", testUpdateCopies},
		{"Delete", testDelete},
		{"CancelledContext", testCancelledContext},
		{"ConcurrentUpdateOneAccount", testConcurrentOneAccount},
		{"ConcurrentUpdateManyAccounts", testConcurrentManyAccounts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// sample is a record with every field set, times at microsecond precision.
func sample(account string) *tokenstore.Record {
	at := time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)
	return &tokenstore.Record{
		Account:      account,
		Provider:     "lab",
		UpstreamUser: "upstream-" + account,
		Status:       tokenstore.StatusOK,
		StatusReason: "consented",
		KDF:          tokenstore.KDFParams{Salt: []byte("salt-0123456789a"), Time: 1, MemoryKiB: 64, Threads: 1},
		Sealed:       []byte("sealed bytes of " + account),
		AccessExpiry: at.Add(time.Hour),
		Created:      at,
		LastRefresh:  at.Add(time.Minute),
		LastLogin:    at.Add(2 * time.Minute),
	}
}

// sameContent fails unless got holds want's fields; Version and Updated
// belong to the store and are checked separately.
func sameContent(t *testing.T, got, want *tokenstore.Record) {
	t.Helper()
	if g, w := normalize(got), normalize(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("record differs:\n got %+v\nwant %+v", g, w)
	}
}

func normalize(r *tokenstore.Record) tokenstore.Record {
	c := *r.Clone()
	c.Version, c.Updated = 0, time.Time{}
	for _, p := range []*time.Time{&c.AccessExpiry, &c.Created, &c.LastRefresh, &c.LastLogin} {
		*p = p.UTC().Round(0)
	}
	return c
}

func mustPut(t *testing.T, s tokenstore.Store, r *tokenstore.Record) {
	t.Helper()
	if err := s.Put(context.Background(), r); err != nil {
		t.Fatalf("Put(%s): %v", r.Account, err)
	}
}

func mustGet(t *testing.T, s tokenstore.Store, account string) *tokenstore.Record {
	t.Helper()
	r, err := s.Get(context.Background(), account)
	if err != nil {
		t.Fatalf("Get(%s): %v", account, err)
	}
	return r
}

func testGetMissing(t *testing.T, s tokenstore.Store) {
	if _, err := s.Get(context.Background(), "nobody@example.com"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Fatalf("Get missing: err = %v, want ErrNotFound", err)
	}
}

func testPutGet(t *testing.T, s tokenstore.Store) {
	before := time.Now().Add(-time.Second)
	want := sample("alice@example.com")
	want.Version = 99 // the store owns Version
	mustPut(t, s, want)
	got := mustGet(t, s, "alice@example.com")
	sameContent(t, got, want)
	if got.Version != 1 {
		t.Errorf("Version after first Put = %d, want 1", got.Version)
	}
	if got.Updated.Before(before) {
		t.Errorf("Updated = %v, want set by the store at write time", got.Updated)
	}
	if want.Version != 99 {
		t.Errorf("Put changed the caller's record (Version %d)", want.Version)
	}
}

func testPutReplaces(t *testing.T, s tokenstore.Store) {
	mustPut(t, s, sample("alice@example.com"))
	next := sample("alice@example.com")
	next.Status, next.StatusReason, next.Sealed = tokenstore.StatusNeedsConsent, "invalid_grant", []byte("other")
	mustPut(t, s, next)
	got := mustGet(t, s, "alice@example.com")
	sameContent(t, got, next)
	if got.Version != 2 {
		t.Errorf("Version after second Put = %d, want 2", got.Version)
	}
}

func testPutRejectsEmptyAccount(t *testing.T, s tokenstore.Store) {
	if err := s.Put(context.Background(), sample("")); err == nil {
		t.Fatal("Put of a record without account succeeded")
	}
	if rs, err := s.List(context.Background()); err != nil || len(rs) != 0 {
		t.Fatalf("List after refused Put = %d records, %v", len(rs), err)
	}
}

func testPutCopies(t *testing.T, s tokenstore.Store) {
	in := sample("alice@example.com")
	mustPut(t, s, in)
	in.Sealed[0] ^= 0xff
	in.KDF.Salt[0] ^= 0xff
	in.Provider = "changed"
	sameContent(t, mustGet(t, s, "alice@example.com"), sample("alice@example.com"))
}

func testGetCopies(t *testing.T, s tokenstore.Store) {
	mustPut(t, s, sample("alice@example.com"))
	got := mustGet(t, s, "alice@example.com")
	got.Sealed[0] ^= 0xff
	got.KDF.Salt[0] ^= 0xff
	got.Status = tokenstore.StatusRevoked
	sameContent(t, mustGet(t, s, "alice@example.com"), sample("alice@example.com"))
}

func testList(t *testing.T, s tokenstore.Store) {
	ctx := context.Background()
	if rs, err := s.List(ctx); err != nil || len(rs) != 0 {
		t.Fatalf("List of empty store = %d records, %v", len(rs), err)
	}
	for _, a := range []string{"carol@example.com", "alice@example.com", "bob@example.com"} {
		mustPut(t, s, sample(a))
	}
	rs, err := s.List(ctx)
	if err != nil || len(rs) != 3 {
		t.Fatalf("List = %d records, %v; want 3", len(rs), err)
	}
	for i, want := range []string{"alice@example.com", "bob@example.com", "carol@example.com"} {
		if rs[i].Account != want {
			t.Fatalf("List[%d] = %s, want %s (sorted by account)", i, rs[i].Account, want)
		}
	}
	rs[0].Sealed[0] ^= 0xff
	sameContent(t, mustGet(t, s, "alice@example.com"), sample("alice@example.com"))
}

func testDelete(t *testing.T, s tokenstore.Store) {
	ctx := context.Background()
	mustPut(t, s, sample("alice@example.com"))
	mustPut(t, s, sample("bob@example.com"))
	if err := s.Delete(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "alice@example.com"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "alice@example.com"); err != nil {
		t.Fatalf("Delete of a missing record: %v", err)
	}
	sameContent(t, mustGet(t, s, "bob@example.com"), sample("bob@example.com"))
	mustPut(t, s, sample("alice@example.com"))
	sameContent(t, mustGet(t, s, "alice@example.com"), sample("alice@example.com"))
}

func testCancelledContext(t *testing.T, s tokenstore.Store) {
	mustPut(t, s, sample("alice@example.com"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Get(ctx, "alice@example.com"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: err = %v, want context.Canceled", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List: err = %v, want context.Canceled", err)
	}
	if err := s.Put(ctx, sample("bob@example.com")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: err = %v, want context.Canceled", err)
	}
	err := s.Update(ctx, "alice@example.com", func(*tokenstore.Record) error {
		t.Error("fn called with a cancelled context")
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update: err = %v, want context.Canceled", err)
	}
	if err := s.Delete(ctx, "alice@example.com"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete: err = %v, want context.Canceled", err)
	}
	if rs, _ := s.List(context.Background()); len(rs) != 1 || rs[0].Version != 1 {
		t.Errorf("store changed by cancelled calls: %d records", len(rs))
	}
}

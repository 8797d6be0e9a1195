package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

func testUpdate(t *testing.T, s tokenstore.Store) {
	mustPut(t, s, sample("alice@example.com"))
	want := sample("alice@example.com")
	want.StatusReason, want.Sealed = "refreshed", []byte("new sealed")
	err := s.Update(context.Background(), "alice@example.com", func(r *tokenstore.Record) error {
		sameContent(t, r, sample("alice@example.com"))
		r.StatusReason, r.Sealed = want.StatusReason, want.Sealed
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, s, "alice@example.com")
	sameContent(t, got, want)
	if got.Version != 2 {
		t.Errorf("Version after Update = %d, want 2", got.Version)
	}
}

func testUpdateMissing(t *testing.T, s tokenstore.Store) {
	err := s.Update(context.Background(), "nobody@example.com", func(*tokenstore.Record) error {
		t.Error("fn called for a missing record")
		return nil
	})
	if !errors.Is(err, tokenstore.ErrNotFound) {
		t.Fatalf("Update missing: err = %v, want ErrNotFound", err)
	}
}

func testUpdateNoChange(t *testing.T, s tokenstore.Store) {
	mustPut(t, s, sample("alice@example.com"))
	err := s.Update(context.Background(), "alice@example.com", func(r *tokenstore.Record) error {
		r.Provider = "discarded"
		return fmt.Errorf("nothing to do: %w", tokenstore.ErrNoChange)
	})
	if err != nil {
		t.Fatalf("Update with ErrNoChange = %v, want nil", err)
	}
	got := mustGet(t, s, "alice@example.com")
	sameContent(t, got, sample("alice@example.com"))
	if got.Version != 1 {
		t.Errorf("Version after ErrNoChange = %d, want 1 (no write)", got.Version)
	}
}

func testUpdateError(t *testing.T, s tokenstore.Store) {
	mustPut(t, s, sample("alice@example.com"))
	boom := errors.New("boom")
	err := s.Update(context.Background(), "alice@example.com", func(r *tokenstore.Record) error {
		r.Sealed = nil
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update err = %v, want fn's error", err)
	}
	if got := mustGet(t, s, "alice@example.com"); got.Version != 1 || string(got.Sealed) != string(sample("alice@example.com").Sealed) {
		t.Fatalf("record changed by a failed Update (Version %d)", got.Version)
	}
}

func testUpdateRename(t *testing.T, s tokenstore.Store) {
	mustPut(t, s, sample("alice@example.com"))
	err := s.Update(context.Background(), "alice@example.com", func(r *tokenstore.Record) error {
		r.Account = "mallory@example.com"
		return nil
	})
	if err == nil {
		t.Fatal("Update that changed Account succeeded")
	}
	if _, err := s.Get(context.Background(), "mallory@example.com"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Fatalf("renamed record exists: %v", err)
	}
	sameContent(t, mustGet(t, s, "alice@example.com"), sample("alice@example.com"))
}

func testUpdateCopies(t *testing.T, s tokenstore.Store) {
	mustPut(t, s, sample("alice@example.com"))
	var kept *tokenstore.Record
	err := s.Update(context.Background(), "alice@example.com", func(r *tokenstore.Record) error {
		kept = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	kept.Sealed[0] ^= 0xff
	kept.StatusReason = "changed after Update returned"
	sameContent(t, mustGet(t, s, "alice@example.com"), sample("alice@example.com"))
}

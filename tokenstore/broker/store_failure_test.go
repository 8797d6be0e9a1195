package broker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
)

// brokenStore fails on purpose: reads when failGet, and writes of Update
// after running the callback (the disk filled up between the refresh and
// the write).
type brokenStore struct {
	tokenstore.Store
	failGet bool
}

var errDiskFull = errors.New("disk full")

func (s *brokenStore) Get(ctx context.Context, account string) (*tokenstore.Record, error) {
	if s.failGet {
		return nil, errDiskFull
	}
	return s.Store.Get(ctx, account)
}

func (s *brokenStore) Update(ctx context.Context, account string, fn func(*tokenstore.Record) error) error {
	var fnErr error
	err := s.Store.Update(ctx, account, func(r *tokenstore.Record) error {
		if fnErr = fn(r); fnErr != nil {
			return fnErr
		}
		return errDiskFull // discard fn's changes, as a failed write would
	})
	if fnErr != nil {
		return err
	}
	return errDiskFull
}

// TestStoreWriteFailureWithholdsToken: the IdP rotated the refresh token
// but the store could not keep it; the caller must not get the new access
// token as if all were well.
func TestStoreWriteFailureWithholdsToken(t *testing.T) {
	e := newEnv(t)
	e.save(alice, -time.Minute)
	b := e.newBroker(&brokenStore{Store: e.store})
	before := readFile(t, e.path)
	tok, err := e.access(b, context.Background(), alice, e.key(alice, password))
	if !errors.Is(err, broker.ErrTemporary) || !errors.Is(err, errDiskFull) || tok.AccessToken != "" {
		t.Fatalf("got %v, %v; want no token and ErrTemporary wrapping the store error", tok, err)
	}
	if e.idp.RefreshRequests() != 1 {
		t.Fatal("scenario did not reach the IdP")
	}
	if string(before) != string(readFile(t, e.path)) {
		t.Fatal("store file changed")
	}
}

func TestStoreReadFailureIsTemporary(t *testing.T) {
	e := newEnv(t)
	e.save(alice, time.Hour)
	key := e.key(alice, password)
	b := e.newBroker(&brokenStore{Store: e.store, failGet: true})
	if _, err := e.access(b, context.Background(), alice, key); !errors.Is(err, broker.ErrTemporary) {
		t.Fatalf("err = %v, want ErrTemporary", err)
	}
	if e.idp.TokenRequests() != 0 {
		t.Fatal("a store failure reached the IdP")
	}
}

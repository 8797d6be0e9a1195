package storetest

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// Pair returns a Store that sends each call to the next of stores in
// turn, to run the suite across instances that share storage (as separate
// processes would). Close closes them all.
func Pair(stores ...tokenstore.Store) tokenstore.Store {
	return &pair{stores: stores}
}

type pair struct {
	stores []tokenstore.Store
	next   atomic.Uint64
}

func (p *pair) pick() tokenstore.Store {
	return p.stores[(p.next.Add(1)-1)%uint64(len(p.stores))]
}

func (p *pair) Get(ctx context.Context, account string) (*tokenstore.Record, error) {
	return p.pick().Get(ctx, account)
}

func (p *pair) Put(ctx context.Context, r *tokenstore.Record) error { return p.pick().Put(ctx, r) }

func (p *pair) Update(ctx context.Context, account string, fn func(*tokenstore.Record) error) error {
	return p.pick().Update(ctx, account, fn)
}

func (p *pair) Delete(ctx context.Context, account string) error {
	return p.pick().Delete(ctx, account)
}

func (p *pair) List(ctx context.Context) ([]*tokenstore.Record, error) { return p.pick().List(ctx) }

func (p *pair) Close() error {
	var errs []error
	for _, s := range p.stores {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

package filestore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// Get returns a copy of the account's record or tokenstore.ErrNotFound.
func (s *Store) Get(ctx context.Context, account string) (*tokenstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: get %s: %w", account, err)
	}
	sn, err := s.current()
	if err != nil {
		return nil, err
	}
	r := sn.recs[account]
	if r == nil {
		return nil, fmt.Errorf("filestore: get %s: %w", account, tokenstore.ErrNotFound)
	}
	return r.Clone(), nil
}

// List returns copies of all records, sorted by account.
func (s *Store) List(ctx context.Context) ([]*tokenstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: list: %w", err)
	}
	sn, err := s.current()
	if err != nil {
		return nil, err
	}
	out := make([]*tokenstore.Record, 0, len(sn.recs))
	for _, r := range sn.recs {
		out = append(out, r.Clone())
	}
	slices.SortFunc(out, func(a, b *tokenstore.Record) int { return strings.Compare(a.Account, b.Account) })
	return out, nil
}

// Put creates or replaces the account's record. The store sets Version
// (previous + 1, or 1) and Updated; r itself is not changed.
func (s *Store) Put(ctx context.Context, r *tokenstore.Record) error {
	if r == nil || r.Account == "" {
		return errors.New("filestore: put: record without account")
	}
	rec := r.Clone()
	release, err := s.lockAccount(ctx, rec.Account)
	if err != nil {
		return err
	}
	defer release()
	return s.commit(ctx, rec.Account, func(old *tokenstore.Record) (*tokenstore.Record, error) {
		rec.Version = nextVersion(old)
		return rec, nil
	})
}

// Update implements tokenstore.Store.Update. fn runs with the account
// locked (across processes), so it may take its time, for example to ask
// an identity provider. fn must not change r.Account.
func (s *Store) Update(ctx context.Context, account string, fn func(r *tokenstore.Record) error) error {
	release, err := s.lockAccount(ctx, account)
	if err != nil {
		return err
	}
	defer release()
	sn, err := s.current()
	if err != nil {
		return err
	}
	read := sn.recs[account]
	if read == nil {
		return fmt.Errorf("filestore: update %s: %w", account, tokenstore.ErrNotFound)
	}
	rec := read.Clone()
	if err := fn(rec); errors.Is(err, tokenstore.ErrNoChange) {
		return nil
	} else if err != nil {
		return err
	}
	if rec.Account != account {
		return fmt.Errorf("filestore: update %s: the callback changed the account name", account)
	}
	rec = rec.Clone() // fn's caller may keep and change its copy
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	return s.commit(wctx, account, func(old *tokenstore.Record) (*tokenstore.Record, error) {
		if old == nil || old.Version != read.Version {
			return nil, fmt.Errorf("filestore: update %s: record changed without the account lock", account)
		}
		rec.Version = nextVersion(old)
		return rec, nil
	})
}

// Delete removes the account's record; a missing record is not an error.
func (s *Store) Delete(ctx context.Context, account string) error {
	release, err := s.lockAccount(ctx, account)
	if err != nil {
		return err
	}
	defer release()
	return s.commit(ctx, account, func(*tokenstore.Record) (*tokenstore.Record, error) { return nil, nil })
}

func nextVersion(old *tokenstore.Record) int64 {
	if old == nil {
		return 1
	}
	return old.Version + 1
}

// commit replaces (or, when change returns nil, removes) one account's
// record in the file. It holds the file lock and re-reads the file inside
// it, so a write of another account by another process is never lost.
func (s *Store) commit(ctx context.Context, account string, change func(old *tokenstore.Record) (*tokenstore.Record, error)) error {
	release, err := s.lockFile(ctx)
	if err != nil {
		return err
	}
	defer release()
	sn, err := s.current()
	if err != nil {
		return err
	}
	old := sn.recs[account]
	rec, err := change(old)
	if err != nil || (rec == nil && old == nil) {
		return err
	}
	recs := maps.Clone(sn.recs)
	if rec == nil {
		delete(recs, account)
	} else {
		rec.Updated = time.Now().UTC()
		recs[account] = rec
	}
	return s.write(recs)
}

// write puts recs into the file and makes them the current snapshot.
func (s *Store) write(recs map[string]*tokenstore.Record) error {
	data, err := encode(recs)
	if err != nil {
		return fmt.Errorf("filestore: encode: %w", err)
	}
	held, info, err := writeAtomic(s.path, data)
	if err != nil {
		return fmt.Errorf("filestore: write %s: %w", s.path, err)
	}
	s.install(&snapshot{info: info, held: held, recs: recs})
	return nil
}

package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

const (
	// selectForUpdate takes the row lock that Update holds across fn. In
	// READ COMMITTED a statement that waited for the lock reads the row as
	// the previous holder committed it: the waiter sees the winner's token.
	selectForUpdate = selectOne + ` FOR UPDATE`
	// updateLocked writes fn's record; the version check can only fail if
	// someone wrote the row without the lock, which must not happen.
	updateLocked = `UPDATE oauthbridge_accounts SET
		provider = $2, upstream_user = $3, status = $4, status_reason = $5,
		kdf_salt = $6, kdf_time = $7, kdf_memory_kib = $8, kdf_threads = $9, sealed = $10,
		access_expiry = $11, created = $12, updated = $13, last_refresh = $14, last_login = $15,
		version = $16
		WHERE account = $1 AND version = $17`
)

// Update implements tokenstore.Store.Update. The row stays locked in a
// transaction from the read until the write commits, across fn, for every
// replica sharing the database; fn may take its time (ask an identity
// provider) but should respect ctx. fn must not change r.Account.
//
// The wait for the lock follows ctx (capped at lockWait). Once fn has
// returned a change, the write and commit follow their own deadline: a
// rotated refresh token must reach the database even if the caller left.
func (s *Store) Update(ctx context.Context, account string, fn func(r *tokenstore.Record) error) error {
	what := "update " + account
	if err := s.begin(ctx, what); err != nil {
		return err
	}
	tx, read, err := s.lockRow(ctx, account)
	if err != nil {
		return err
	}
	defer rollback(tx)
	rec := read.Clone()
	if err := fn(rec); errors.Is(err, tokenstore.ErrNoChange) {
		return nil
	} else if err != nil {
		return err
	}
	if rec.Account != account {
		return fmt.Errorf("postgres: %s: the callback changed the account name", what)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	return s.writeLocked(wctx, tx, rec, read.Version)
}

// lockRow begins a transaction and reads the account's row under a row
// lock. On error no transaction is left open.
func (s *Store) lockRow(ctx context.Context, account string) (pgx.Tx, *tokenstore.Record, error) {
	what := "update " + account
	ctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, nil, s.fail(what+": begin", err)
	}
	r, err := scanRecord(tx.QueryRow(ctx, selectForUpdate, account))
	if err == nil {
		return tx, r, nil
	}
	rollback(tx)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, fmt.Errorf("postgres: %s: %w", what, tokenstore.ErrNotFound)
	}
	return nil, nil, s.fail(what+": lock row", err)
}

// writeLocked writes rec over the locked row read at version and commits.
func (s *Store) writeLocked(ctx context.Context, tx pgx.Tx, rec *tokenstore.Record, version int64) error {
	what := "update " + rec.Account
	args := append(recordArgs(rec, now(), version+1), version)
	tag, err := tx.Exec(ctx, updateLocked, args...)
	if err != nil {
		return s.fail(what+": write", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("postgres: %s: record changed without the row lock", what)
	}
	if err := tx.Commit(ctx); err != nil {
		return s.fail(what+": commit", err)
	}
	return nil
}

// rollback ends tx if it is still open. It has its own short deadline: it
// often runs because the caller's context ended. A failed rollback needs
// no handling: the pool drops a broken connection, and PostgreSQL aborts
// the transaction of a connection that goes away.
func rollback(tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}

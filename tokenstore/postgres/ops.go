package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

const (
	selectOne = `SELECT ` + columns + ` FROM oauthbridge_accounts WHERE account = $1`
	selectAll = `SELECT ` + columns + ` FROM oauthbridge_accounts ORDER BY account COLLATE "C"`
	// upsert inserts at version 1 ($16) or bumps the stored version: the
	// row lock that ON CONFLICT takes orders it after a running Update.
	upsert = `INSERT INTO oauthbridge_accounts (` + columns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (account) DO UPDATE SET
			provider = EXCLUDED.provider, upstream_user = EXCLUDED.upstream_user,
			status = EXCLUDED.status, status_reason = EXCLUDED.status_reason,
			kdf_salt = EXCLUDED.kdf_salt, kdf_time = EXCLUDED.kdf_time,
			kdf_memory_kib = EXCLUDED.kdf_memory_kib, kdf_threads = EXCLUDED.kdf_threads,
			sealed = EXCLUDED.sealed, access_expiry = EXCLUDED.access_expiry,
			created = EXCLUDED.created, updated = EXCLUDED.updated,
			last_refresh = EXCLUDED.last_refresh, last_login = EXCLUDED.last_login,
			version = oauthbridge_accounts.version + 1`
	deleteOne = `DELETE FROM oauthbridge_accounts WHERE account = $1`
)

// Get returns a copy of the account's record or tokenstore.ErrNotFound.
func (s *Store) Get(ctx context.Context, account string) (*tokenstore.Record, error) {
	what := "get " + account
	if err := s.begin(ctx, what); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	r, err := scanRecord(s.pool.QueryRow(ctx, selectOne, account))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: %s: %w", what, tokenstore.ErrNotFound)
	} else if err != nil {
		return nil, s.fail(what, err)
	}
	return r, nil
}

// List returns copies of all records, sorted by account (byte order, as
// the file store sorts).
func (s *Store) List(ctx context.Context) ([]*tokenstore.Record, error) {
	if err := s.begin(ctx, "list"); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, selectAll)
	if err != nil {
		return nil, s.fail("list", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*tokenstore.Record, error) { return scanRecord(r) })
	if err != nil {
		return nil, s.fail("list", err)
	}
	return out, nil
}

// Put creates or replaces the account's record. The store sets Version
// (previous + 1, or 1) and Updated; r itself is not changed.
func (s *Store) Put(ctx context.Context, r *tokenstore.Record) error {
	if r == nil || r.Account == "" {
		return errors.New("postgres: put: record without account")
	}
	what := "put " + r.Account
	if err := s.begin(ctx, what); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, upsert, recordArgs(r, now(), 1)...); err != nil {
		return s.fail(what, err)
	}
	return nil
}

// Delete removes the account's record; a missing record is not an error.
func (s *Store) Delete(ctx context.Context, account string) error {
	what := "delete " + account
	if err := s.begin(ctx, what); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, deleteOne, account); err != nil {
		return s.fail(what, err)
	}
	return nil
}

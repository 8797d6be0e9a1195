package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer oauthbridge than this one: writing to it with an older idea of its
// tables could lose data. Upgrade this replica.
var ErrSchemaTooNew = errors.New("postgres: the database schema is newer than this oauthbridge")

// migrationLockKey is the advisory lock that serialises schema work of
// every oauthbridge in the database ("oauthbrg" in ASCII). It is held per
// transaction, so a replica that dies mid-migration releases it.
const migrationLockKey int64 = 0x6f61757468627267

// migrations are applied in order; migrations[i] brings the schema to
// version i+1. Never edit one that has shipped: append a new one.
var migrations = []string{
	`CREATE TABLE oauthbridge_accounts (
		account        text PRIMARY KEY CHECK (account <> ''),
		provider       text NOT NULL,
		upstream_user  text NOT NULL,
		status         text NOT NULL,
		status_reason  text NOT NULL,
		kdf_salt       bytea NOT NULL,
		kdf_time       bigint NOT NULL,
		kdf_memory_kib bigint NOT NULL,
		kdf_threads    integer NOT NULL,
		sealed         bytea NOT NULL,
		access_expiry  timestamptz,
		created        timestamptz,
		updated        timestamptz NOT NULL,
		last_refresh   timestamptz,
		last_login     timestamptz,
		version        bigint NOT NULL
	)`,
}

// SchemaVersion is the schema version this oauthbridge creates and expects.
func SchemaVersion() int { return len(migrations) }

// migrate brings the schema to SchemaVersion in one transaction under the
// advisory lock: replicas starting together take turns, and the later ones
// find the work done.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
			return fmt.Errorf("take the migration lock: %w", err)
		}
		current, err := schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		if current > len(migrations) {
			return fmt.Errorf("%w: database at version %d, this binary knows %d", ErrSchemaTooNew, current, len(migrations))
		}
		for v := current + 1; v <= len(migrations); v++ {
			if err := apply(ctx, tx, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate schema: %w", err)
	}
	return nil
}

// schemaVersion creates the version table if needed and returns the
// highest version applied (0 for a new database).
func schemaVersion(ctx context.Context, tx pgx.Tx) (int, error) {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS oauthbridge_schema_version (
		version integer PRIMARY KEY,
		applied timestamptz NOT NULL DEFAULT clock_timestamp()
	)`)
	if err != nil {
		return 0, fmt.Errorf("create the version table: %w", err)
	}
	var v int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM oauthbridge_schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read the schema version: %w", err)
	}
	return v, nil
}

func apply(ctx context.Context, tx pgx.Tx, v int) error {
	if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
		return fmt.Errorf("migration %d: %w", v, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO oauthbridge_schema_version (version) VALUES ($1)`, v); err != nil {
		return fmt.Errorf("record migration %d: %w", v, err)
	}
	return nil
}

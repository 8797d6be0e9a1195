package pgtickets

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrSchemaTooNew is returned by Open when a newer oauthbridge migrated the
// ticket tables: upgrade this replica.
var ErrSchemaTooNew = errors.New("pgtickets: the consent ticket schema is newer than this oauthbridge")

// schemaLockKey serialises ticket schema work across replicas ("oaconsnt"
// in ASCII); distinct from the token store's migration lock, so neither
// waits for the other.
const schemaLockKey int64 = 0x6f61636f6e736e74

// addLockKey serialises Add across replicas for the duration of one
// transaction, so that the bounds hold when replicas add at once.
const addLockKey int64 = 0x6f61636f6e616464

// migrations[i] brings the ticket schema to version i+1. Never edit one
// that has shipped: append.
var migrations = []string{
	`CREATE TABLE oauthbridge_consent_tickets (
		id_hash  bytea PRIMARY KEY,
		account  text NOT NULL,
		created  timestamptz NOT NULL,
		expires  timestamptz NOT NULL,
		busy     boolean NOT NULL,
		sealed   bytea NOT NULL
	);
	CREATE INDEX oauthbridge_consent_tickets_account ON oauthbridge_consent_tickets (account, created);
	CREATE INDEX oauthbridge_consent_tickets_expires ON oauthbridge_consent_tickets (expires);
	CREATE TABLE oauthbridge_consent_secret (
		id      smallint PRIMARY KEY CHECK (id = 1),
		secret  bytea NOT NULL CHECK (length(secret) >= 32),
		created timestamptz NOT NULL DEFAULT now()
	)`,
}

// migrate brings the ticket tables to the current version in one
// transaction under the schema lock.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, schemaLockKey); err != nil {
			return fmt.Errorf("take the schema lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS oauthbridge_consent_schema_version (
			version integer PRIMARY KEY,
			applied timestamptz NOT NULL DEFAULT clock_timestamp()
		)`); err != nil {
			return fmt.Errorf("create the version table: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM oauthbridge_consent_schema_version`).Scan(&current); err != nil {
			return fmt.Errorf("read the schema version: %w", err)
		}
		if current > len(migrations) {
			return fmt.Errorf("%w: database at version %d, this binary knows %d", ErrSchemaTooNew, current, len(migrations))
		}
		for v := current + 1; v <= len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO oauthbridge_consent_schema_version (version) VALUES ($1)`, v); err != nil {
				return fmt.Errorf("record migration %d: %w", v, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgtickets: migrate schema: %w", err)
	}
	return nil
}

// siteSecret returns the database's consent secret, creating it on first
// use; replicas starting together agree on the first one written.
func siteSecret(ctx context.Context, pool *pgxpool.Pool) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("pgtickets: site secret: %w", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO oauthbridge_consent_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, fresh); err != nil {
		return nil, fmt.Errorf("pgtickets: create the site secret: %w", err)
	}
	var secret []byte
	if err := pool.QueryRow(ctx, `SELECT secret FROM oauthbridge_consent_secret WHERE id = 1`).Scan(&secret); err != nil {
		return nil, fmt.Errorf("pgtickets: read the site secret: %w", err)
	}
	return secret, nil
}

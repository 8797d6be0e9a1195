package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// Deadlines. The caller's context applies as well; these cap a context
// without a deadline, so that nothing waits forever.
const (
	// queryTimeout bounds one plain statement (Get, Put, List, Delete).
	queryTimeout = 10 * time.Second
	// lockWait bounds Update's wait for a row that another Update holds.
	// The broker holds it for one refresh at most (its refresh deadline
	// plus write grace, 30 s by default), so this is a backstop.
	lockWait = 60 * time.Second
	// writeTimeout bounds Update's write and commit after fn has run.
	writeTimeout = 10 * time.Second
	// migrateTimeout bounds Open's schema work, including the wait for a
	// replica that is migrating at the same moment.
	migrateTimeout = 60 * time.Second
)

// sessionDefaults are server settings every connection gets unless the DSN
// sets them: the server-side backstops for lock waits and for a peer that
// vanished mid-transaction without closing its connection.
var sessionDefaults = map[string]string{
	"application_name":                    "oauthbridge",
	"lock_timeout":                        "60s",
	"idle_in_transaction_session_timeout": "120s",
}

// ErrClosed is returned by a Store used after Close.
var ErrClosed = errors.New("postgres: store is closed")

// ErrBadDSN is returned by Open for a DSN that cannot be parsed. The DSN
// itself is not quoted: it may hold a password.
var ErrBadDSN = errors.New("postgres: the DSN cannot be parsed (not shown: it may hold a password)")

// Store is a tokenstore.Store in a PostgreSQL database. Open it with Open;
// it is safe for concurrent use by many goroutines and many processes.
type Store struct {
	pool     *pgxpool.Pool
	isClosed atomic.Bool
}

var _ tokenstore.Store = (*Store)(nil)

// Open connects to the database named by dsn, creates or migrates the
// schema, and returns the store. Pool settings (pool_max_conns, ...) and
// server settings (search_path, lock_timeout, ...) may be given in the DSN.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, ErrBadDSN
	}
	for k, v := range sessionDefaults {
		if _, set := cfg.ConnConfig.RuntimeParams[k]; !set {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = queryTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	if err := connect(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// connect makes the first connection, so that an unreachable server or a
// refused login is reported as such rather than as a failed migration.
func connect(ctx context.Context, pool *pgxpool.Pool) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	return nil
}

// Close releases the store's connections. Calls after Close fail with
// ErrClosed.
func (s *Store) Close() error {
	s.isClosed.Store(true)
	s.pool.Close()
	return nil
}

// Ping checks that the database answers, for a readiness probe.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.begin(ctx, "ping"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return s.fail("ping", err)
	}
	return nil
}

// begin checks the store and the caller's context before a method does
// anything, so that a cancelled call has no side effects.
func (s *Store) begin(ctx context.Context, what string) error {
	if s.isClosed.Load() {
		return fmt.Errorf("postgres: %s: %w", what, ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	return nil
}

// fail wraps err with what was being done, mapping a closed pool to
// ErrClosed.
func (s *Store) fail(what string, err error) error {
	if s.isClosed.Load() {
		return fmt.Errorf("postgres: %s: %w", what, ErrClosed)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

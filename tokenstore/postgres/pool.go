package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// Pool returns the store's connection pool, for state that other
// oauthbridge packages keep in the same database beside the accounts
// (consent tickets, in proxy/consent/pgtickets): one DSN, one pool, the
// same search_path and session settings. Such callers own their own tables
// and must not write oauthbridge_accounts, whose row lock protocol only
// this package knows. The pool is closed by Close.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

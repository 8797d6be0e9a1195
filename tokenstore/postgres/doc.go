// Package postgres is the shared token store: records kept in a PostgreSQL
// database, so that several oauthbridge replicas serve the same accounts
// and coordinate their token refreshes.
//
// Open takes a libpq-style DSN or URL (pgx syntax); tables are created in
// the first schema of the session's search_path (set it with
// search_path=... in the DSN, or as the role's default), so several
// installations can share one database in separate schemas.
//
// Invariants:
//   - Schema: Open creates or migrates the tables before returning, inside
//     one transaction that holds a transaction-scoped advisory lock, so
//     replicas starting together migrate once and never see a half-made
//     schema. The applied version is kept in oauthbridge_schema_version;
//     a database migrated by a newer oauthbridge is refused (ErrSchemaTooNew)
//     rather than written with an older idea of its layout.
//   - Update holds a row lock (SELECT ... FOR UPDATE in a transaction) from
//     its read to its write, across the callback. The token broker refreshes
//     inside Update, so a replica that waits for the lock then reads the
//     record its peer just wrote and uses the token stored there instead of
//     asking the identity provider again (READ COMMITTED re-reads the row
//     after the wait). Put and Delete take the same row lock implicitly.
//   - A replica that dies while holding the lock loses its connection, and
//     PostgreSQL aborts its transaction and releases the lock: nothing it
//     had not committed is written, and the waiters carry on with the
//     record as it was. Sessions also carry idle_in_transaction_session_timeout
//     so that a peer that vanished without closing its connection (a network
//     partition) releases its lock after a bounded time.
//   - Every statement runs under a deadline: the caller's context, capped per
//     statement (queryTimeout, lockWait), and on the server lock_timeout.
//     Update's write, once the callback has run, follows its own deadline
//     rather than the caller's, so that a refresh that rotated a token is not
//     thrown away because the caller gave up.
//   - Version is owned by the store: 1 at the first Put, +1 on every write.
//   - Secrets: only sealed grants are stored (see package tokenstore), and the
//     DSN, which may hold a password, never appears in an error text.
//
// Beside the accounts: consent tickets live in the same database (package
// proxy/consent/pgtickets, on this store's Pool), so a consent started
// through one replica completes through another. Login throttling state is
// still per replica.
package postgres

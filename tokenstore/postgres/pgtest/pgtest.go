// Package pgtest gives tests an empty schema on the private PostgreSQL
// server that .ci/start-postgres runs, so every test of the shared store
// (the store itself, consent tickets, replicas of the daemon) starts from
// nothing without needing rights to create databases.
//
// Without OAUTHBRIDGE_TEST_POSTGRES_DSN a test is skipped with a message
// saying how to start the server; with OAUTHBRIDGE_REQUIRE_INTEGRATION=1,
// as in CI, it fails instead, since a skip there would hide that the
// shared store was never tested.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DSNEnv names the server the tests use; .ci/start-postgres prints it.
const DSNEnv = "OAUTHBRIDGE_TEST_POSTGRES_DSN"

// DSN returns the test server's DSN, or skips (or fails) the test.
func DSN(t testing.TB) string {
	t.Helper()
	if dsn := os.Getenv(DSNEnv); dsn != "" {
		return dsn
	}
	const how = DSNEnv + ` is not set: run eval "$(bash .ci/start-postgres)" to test against a private PostgreSQL`
	if os.Getenv("OAUTHBRIDGE_REQUIRE_INTEGRATION") == "1" {
		t.Fatal(how + " (OAUTHBRIDGE_REQUIRE_INTEGRATION=1 forbids skipping)")
	}
	t.Skip(how)
	return ""
}

// Schema creates an empty schema, drops it when t ends, and returns a DSN
// whose sessions work in it. The sessions carry the schema's name as
// application_name, so a test can find them in pg_stat_activity.
func Schema(t testing.TB) string {
	t.Helper()
	base := DSN(t)
	b := make([]byte, 8)
	rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	Exec(t, base, "CREATE SCHEMA "+name)
	t.Cleanup(func() { Exec(t, base, "DROP SCHEMA "+name+" CASCADE") })
	return WithParam(WithParam(base, "search_path", name), "application_name", name)
}

// Exec runs one statement on its own connection.
func Exec(t testing.TB, dsn, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// Query runs one query on its own connection and scans its single row.
func Query(t testing.TB, dsn, sql string, dest ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// WithParam adds a connection parameter to a URL or key=value DSN.
func WithParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + url.QueryEscape(key) + "=" + url.QueryEscape(value)
	}
	return dsn + " " + key + "=" + value
}

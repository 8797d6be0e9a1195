package pgtickets_test

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
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauthbridge/oauthbridge/proxy/consent/pgtickets"
)

// dsnEnv names the server the tests use; .ci/start-postgres prints it.
const dsnEnv = "OAUTHBRIDGE_TEST_POSTGRES_DSN"

// testDSN returns the test server's DSN, or skips the test (fails it when
// OAUTHBRIDGE_REQUIRE_INTEGRATION=1, as in CI, where a skip would hide
// that the shared tickets were never tested).
func testDSN(t *testing.T) string {
	t.Helper()
	if dsn := os.Getenv(dsnEnv); dsn != "" {
		return dsn
	}
	const how = dsnEnv + ` is not set: run eval "$(bash .ci/start-postgres)" to test against a private PostgreSQL`
	if os.Getenv("OAUTHBRIDGE_REQUIRE_INTEGRATION") == "1" {
		t.Fatal(how + " (OAUTHBRIDGE_REQUIRE_INTEGRATION=1 forbids skipping)")
	}
	t.Skip(how)
	return ""
}

// freshSchema creates an empty schema, dropped when t ends, and returns a
// DSN whose sessions work in it.
func freshSchema(t *testing.T) string {
	t.Helper()
	base := testDSN(t)
	name := "t_" + randomHex(8)
	exec(t, base, "CREATE SCHEMA "+name)
	t.Cleanup(func() { exec(t, base, "DROP SCHEMA "+name+" CASCADE") })
	return withParam(base, "search_path", name)
}

// exec runs one statement on its own connection.
func exec(t *testing.T, dsn, sql string, args ...any) {
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

// withParam adds a connection parameter to a URL or key=value DSN.
func withParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + url.QueryEscape(key) + "=" + url.QueryEscape(value)
	}
	return dsn + " " + key + "=" + value
}

// newPool is one replica's connection pool on dsn.
func newPool(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// openTickets is one replica's ticket store on dsn.
func openTickets(t *testing.T, dsn string, opts pgtickets.Options) *pgtickets.Tickets {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := pgtickets.Open(ctx, newPool(t, dsn), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

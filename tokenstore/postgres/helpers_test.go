package postgres_test

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

	"github.com/oauthbridge/oauthbridge/tokenstore/postgres"
)

// dsnEnv names the server the tests use; .ci/start-postgres prints it.
const dsnEnv = "OAUTHBRIDGE_TEST_POSTGRES_DSN"

// testDSN returns the test server's DSN, or skips the test (fails it when
// OAUTHBRIDGE_REQUIRE_INTEGRATION=1, as in CI, where skipping would hide
// that the shared store was never tested).
func testDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn != "" {
		return dsn
	}
	const how = dsnEnv + ` is not set: run eval "$(bash .ci/start-postgres)" to test against a private PostgreSQL`
	if os.Getenv("OAUTHBRIDGE_REQUIRE_INTEGRATION") == "1" {
		t.Fatal(how + " (OAUTHBRIDGE_REQUIRE_INTEGRATION=1 forbids skipping)")
	}
	t.Skip(how)
	return ""
}

// freshSchema creates an empty schema, drops it when t ends, and returns a
// DSN whose sessions work in it: every test gets an empty store without
// needing rights to create databases. The sessions carry the schema's name
// as application_name, so a test can find them in pg_stat_activity.
func freshSchema(t *testing.T) string {
	t.Helper()
	base := testDSN(t)
	name := "t_" + randomHex(8)
	admin(t, base, "CREATE SCHEMA "+name)
	t.Cleanup(func() { admin(t, base, "DROP SCHEMA "+name+" CASCADE") })
	return withParam(withParam(base, "search_path", name), "application_name", name)
}

// admin runs one statement on its own connection.
func admin(t *testing.T, dsn, sql string, args ...any) {
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

// query runs one query on its own connection and scans its single row.
func query(t *testing.T, dsn, sql string, dest ...any) {
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

// waitForLockWaiter returns once a session of dsn's schema waits for a
// row lock, so a test knows the waiter is queued behind the holder. It
// fails the test after a generous bound rather than hang.
func waitForLockWaiter(t *testing.T, dsn string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	app := cfg.RuntimeParams["application_name"]
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		query(t, testDSN(t), `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = '`+app+`'`, &n)
		if n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no session started waiting for the row lock")
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

func openStore(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// dsnPassword is the password in a URL DSN, for leak checks ("" if none).
func dsnPassword(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return ""
	}
	pw, _ := u.User.Password()
	return pw
}

package main

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

// pgDSNEnv names the PostgreSQL server for tests of the shared store;
// .ci/start-postgres prints it.
const pgDSNEnv = "OAUTHBRIDGE_TEST_POSTGRES_DSN"

// pgSchema returns a DSN for a new, empty schema on the test server
// (dropped when t ends), or skips the test when there is no server; with
// OAUTHBRIDGE_REQUIRE_INTEGRATION=1 (CI) it fails instead.
func pgSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv(pgDSNEnv)
	if base == "" {
		const how = pgDSNEnv + ` is not set: run eval "$(bash .ci/start-postgres)" to test against a private PostgreSQL`
		if os.Getenv("OAUTHBRIDGE_REQUIRE_INTEGRATION") == "1" {
			t.Fatal(how + " (OAUTHBRIDGE_REQUIRE_INTEGRATION=1 forbids skipping)")
		}
		t.Skip(how)
	}
	b := make([]byte, 8)
	rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	pgExec(t, base, "CREATE SCHEMA "+name)
	t.Cleanup(func() { pgExec(t, base, "DROP SCHEMA "+name+" CASCADE") })
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + name
	}
	return base + sep + "search_path=" + url.QueryEscape(name)
}

func pgExec(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

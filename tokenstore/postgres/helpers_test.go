package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"github.com/oauthbridge/oauthbridge/tokenstore/postgres/pgtest"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oauthbridge/oauthbridge/tokenstore/postgres"
)

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
		pgtest.Query(t, pgtest.DSN(t), `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = '`+app+`'`, &n)
		if n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no session started waiting for the row lock")
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

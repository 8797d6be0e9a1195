package main

import (
	"strings"
	"testing"

	"github.com/oauthbridge/oauthbridge/internal/config"
)

// TestPostgresStoreErrorsHideDSN: a store that cannot be opened is
// reported without the DSN's password, for a bad DSN and for a server
// that does not answer.
func TestPostgresStoreErrorsHideDSN(t *testing.T) {
	const pw = "s3cret-db-passw0rd"
	for _, dsn := range []string{
		"postgres://ob:" + pw + "@127.0.0.1:1/ob?connect_timeout=5",
		"postgres://ob:" + pw + "@127.0.0.1:1/ob?pool_max_conns=not-a-number",
		"host=127.0.0.1 port=1 user=ob password=" + pw + " connect_timeout=5",
	} {
		cfg := config.Default()
		cfg.Store = config.Store{Driver: "postgres", DSN: config.Secret(dsn)}
		s, err := openStore(cfg)
		if err == nil {
			s.Close()
			t.Fatal("opened a store on a port where nothing listens")
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("error shows the DSN's password: %v", err)
		}
		if !strings.Contains(err.Error(), "postgres") {
			t.Errorf("error does not say which store failed: %v", err)
		}
	}
}

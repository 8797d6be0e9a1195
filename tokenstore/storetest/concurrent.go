package storetest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// increment adds one to the counter kept in StatusReason. Lost updates
// (two Updates reading the same value) show as a final count too low.
func increment(r *tokenstore.Record) error {
	n, err := strconv.Atoi(r.StatusReason)
	if err != nil {
		return fmt.Errorf("counter %q: %w", r.StatusReason, err)
	}
	r.StatusReason = strconv.Itoa(n + 1)
	return nil
}

// hammer runs n concurrent increments of account and reports the errors.
func hammer(s tokenstore.Store, account string, n int, wg *sync.WaitGroup, errs chan<- error) {
	for range n {
		wg.Go(func() {
			if err := s.Update(context.Background(), account, increment); err != nil {
				errs <- err
			}
		})
	}
}

func checkCount(t *testing.T, s tokenstore.Store, account string, n int) {
	t.Helper()
	got := mustGet(t, s, account)
	if got.StatusReason != strconv.Itoa(n) || got.Version != int64(n+1) {
		t.Errorf("%s: counter %s, Version %d after %d concurrent updates; want %d and %d",
			account, got.StatusReason, got.Version, n, n, n+1)
	}
}

func testConcurrentOneAccount(t *testing.T, s tokenstore.Store) {
	const n = 20
	r := sample("alice@example.com")
	r.StatusReason = "0"
	mustPut(t, s, r)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	hammer(s, "alice@example.com", n, &wg, errs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update: %v", err)
	}
	checkCount(t, s, "alice@example.com", n)
}

// testConcurrentManyAccounts catches a backend that serialises each
// account but loses other accounts' writes (rewriting a whole file or
// table from a stale read).
func testConcurrentManyAccounts(t *testing.T, s tokenstore.Store) {
	const accounts, n = 6, 5
	for i := range accounts {
		r := sample(fmt.Sprintf("user%d@example.com", i))
		r.StatusReason = "0"
		mustPut(t, s, r)
	}
	var wg sync.WaitGroup
	errs := make(chan error, accounts*n)
	for i := range accounts {
		hammer(s, fmt.Sprintf("user%d@example.com", i), n, &wg, errs)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update: %v", err)
	}
	for i := range accounts {
		checkCount(t, s, fmt.Sprintf("user%d@example.com", i), n)
	}
}

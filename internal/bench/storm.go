package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
)

// StormResult is n concurrent logins to one account whose access token
// the proxy holds has just expired.
type StormResult struct {
	Logins, Failures int
	FirstError       error
	// Refreshes counts the refresh requests the IdP received.
	Refreshes int
	// AllDone is from the start of the storm to the last tagged OK;
	// AfterRefresh from the IdP's receipt of the refresh to the last OK.
	AllDone, AfterRefresh time.Duration
	Times                 Latencies
}

// ExpireSoon makes the token the proxy holds for account expire in the
// proxy's eyes: the IdP's current tokens are refused, so a login through
// leg refreshes and gets one living just over the broker's one-minute
// safety margin; after margin+ it counts as expired, although the IdP
// would still accept it, which is exactly when the broker refreshes in
// production. Later tokens live an hour.
func ExpireSoon(ctx context.Context, idp *testidp.IdP, leg Leg, account string) error {
	idp.SetAccessTTL(62 * time.Second)
	idp.Expire(account)
	c, err := leg.Open(ctx)
	idp.SetAccessTTL(time.Hour)
	if err != nil {
		return fmt.Errorf("login that fetches a short-lived token: %w", err)
	}
	c.Close()
	time.Sleep(2500 * time.Millisecond)
	return nil
}

// Storm starts n logins through leg at once and counts the IdP's refresh
// requests meanwhile.
func Storm(ctx context.Context, idp *testidp.IdP, leg Leg, n int) StormResult {
	res := StormResult{Logins: n}
	before := idp.RefreshRequests()
	refreshed := watchRefresh(idp, before)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var last time.Time
	gate := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			t0 := time.Now()
			c, err := leg.Open(ctx)
			t1 := time.Now()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Failures++
				if res.FirstError == nil {
					res.FirstError = err
				}
				return
			}
			c.Close()
			res.Times = append(res.Times, t1.Sub(t0))
			if t1.After(last) {
				last = t1
			}
		}()
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	res.AllDone = last.Sub(start)
	if t := refreshed(); !t.IsZero() {
		res.AfterRefresh = last.Sub(t)
	}
	res.Refreshes = idp.RefreshRequests() - before
	slices.Sort(res.Times)
	return res
}

// watchRefresh polls the IdP's refresh counter every millisecond until
// it passes before, and returns a function that stops watching and
// reports when that happened (zero if it did not).
func watchRefresh(idp *testidp.IdP, before int) func() time.Time {
	stop := make(chan struct{})
	seen := make(chan time.Time, 1)
	go func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				seen <- time.Time{}
				return
			case now := <-t.C:
				if idp.RefreshRequests() > before {
					seen <- now
					return
				}
			}
		}
	}()
	return func() time.Time {
		close(stop)
		return <-seen
	}
}

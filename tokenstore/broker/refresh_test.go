package broker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
)

func TestStoredTokenNeedsNoRefresh(t *testing.T) {
	e := newEnv(t)
	tok := e.save(alice, time.Hour)
	for range 3 {
		got, err := e.access(e.b, context.Background(), alice, e.key(alice, password))
		if err != nil {
			t.Fatal(err)
		}
		if got.AccessToken != tok.AccessToken || got.UpstreamUser != alice || got.Provider != "lab" {
			t.Fatalf("got %v, want the saved token", got)
		}
	}
	// A broker that did not do the Save finds it in the store.
	if got, err := e.access(e.newBroker(e.openStore()), context.Background(), alice, e.key(alice, password)); err != nil || got.AccessToken != tok.AccessToken {
		t.Fatalf("second broker: %v, %v", got, err)
	}
	if n := e.idp.TokenRequests(); n != 0 {
		t.Fatalf("%d token requests, want 0", n)
	}
}

func TestConcurrentCallersRefreshOnce(t *testing.T) {
	e := newEnv(t)
	e.save(alice, -time.Minute)
	e.idp.SetDelay(100 * time.Millisecond) // make the 50 calls overlap the refresh
	key := e.key(alice, password)
	toks := make([]broker.Token, 50)
	var wg sync.WaitGroup
	for i := range toks {
		wg.Go(func() {
			var err error
			if toks[i], err = e.access(e.b, context.Background(), alice, key); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := e.idp.RefreshRequests(); n != 1 {
		t.Fatalf("%d refresh requests for 50 concurrent callers, want 1", n)
	}
	for _, tok := range toks {
		if tok.AccessToken != toks[0].AccessToken {
			t.Fatal("callers got different access tokens")
		}
	}
	if email, ok := e.idp.Validate(toks[0].AccessToken); !ok || email != alice {
		t.Fatalf("refreshed token invalid at the IdP (%q, %v)", email, ok)
	}
}

func TestRotatedRefreshTokenPersisted(t *testing.T) {
	e := newEnv(t)
	first := e.save(alice, -time.Minute)
	before := time.Now()
	tok, err := e.access(e.b, context.Background(), alice, e.key(alice, password))
	if err != nil {
		t.Fatal(err)
	}
	r, g := e.grant(alice)
	newest := e.idp.LatestRefreshToken(alice)
	if g.RefreshToken != newest || newest == first.RefreshToken {
		t.Fatal("store does not hold the IdP's newest refresh token")
	}
	if g.AccessToken != tok.AccessToken || !r.AccessExpiry.Equal(g.Expiry) || r.LastRefresh.Before(before.Add(-time.Second)) {
		t.Fatalf("record bookkeeping: expiry %v / %v, last refresh %v", r.AccessExpiry, g.Expiry, r.LastRefresh)
	}
	// The old refresh token is dead at the IdP (no grace): only the stored
	// one can refresh again, and it does.
	e.b.Forget(alice, tok.AccessToken)
	if _, err := e.access(e.b, context.Background(), alice, e.key(alice, password)); err != nil {
		t.Fatalf("refresh with the persisted token: %v", err)
	}
}

func TestRefreshWithoutRotationKeepsRefreshToken(t *testing.T) {
	e := newEnv(t)
	first := e.save(alice, -time.Minute)
	e.idp.SetRefreshPolicy(false, 0)
	tok, err := e.access(e.b, context.Background(), alice, e.key(alice, password))
	if err != nil {
		t.Fatal(err)
	}
	if _, g := e.grant(alice); g.RefreshToken != first.RefreshToken || g.AccessToken != tok.AccessToken {
		t.Fatal("refresh without a new refresh token lost the old one")
	}
}

func TestTwoReplicasRefreshOnce(t *testing.T) {
	e := newEnv(t)
	e.save(alice, -time.Minute)
	e.idp.SetDelay(100 * time.Millisecond)
	brokers := []*broker.Broker{e.b, e.newBroker(e.openStore())}
	key := e.key(alice, password)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := e.access(brokers[i%2], context.Background(), alice, key); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := e.idp.RefreshRequests(); n != 1 {
		t.Fatalf("%d refresh requests from two replicas, want 1", n)
	}
	if _, g := e.grant(alice); g.RefreshToken != e.idp.LatestRefreshToken(alice) {
		t.Fatal("store does not hold the newest refresh token")
	}
}

func TestForgetForcesRefresh(t *testing.T) {
	e := newEnv(t)
	saved := e.save(alice, time.Hour)
	e.idp.Expire(alice) // upstream now refuses the token the broker believes valid
	key := e.key(alice, password)
	tok, _ := e.access(e.b, context.Background(), alice, key)
	if tok.AccessToken != saved.AccessToken {
		t.Fatal("broker did not hand out the saved token")
	}
	e.b.Forget(alice, tok.AccessToken)
	fresh, err := e.access(e.b, context.Background(), alice, key)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == saved.AccessToken || e.idp.RefreshRequests() != 1 {
		t.Fatalf("Forget did not lead to one refresh (%d)", e.idp.RefreshRequests())
	}
	if _, ok := e.idp.Validate(fresh.AccessToken); !ok {
		t.Fatal("refreshed token invalid")
	}
	// Forgetting a token that is no longer current changes nothing.
	e.b.Forget(alice, saved.AccessToken)
	if again, _ := e.access(e.b, context.Background(), alice, key); again.AccessToken != fresh.AccessToken {
		t.Fatal("forgetting an old token dropped the current one")
	}
}

// TestCallerGivesUpRefreshCompletes: the caller's deadline ends while the
// IdP is answering; the refresh still finishes and the rotated token is
// stored, so the grant survives an IdP that kills old refresh tokens.
func TestCallerGivesUpRefreshCompletes(t *testing.T) {
	e := newEnv(t)
	e.save(alice, -time.Minute)
	e.idp.SetDelay(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := e.access(e.b, ctx, alice, e.key(alice, password))
	if !errors.Is(err, broker.ErrTemporary) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrTemporary and DeadlineExceeded", err)
	}
	waitFor(t, func() bool { _, g := e.grant(alice); return g.RefreshToken == e.idp.LatestRefreshToken(alice) })
	e.idp.SetDelay(0)
	if _, err := e.access(e.b, context.Background(), alice, e.key(alice, password)); err != nil {
		t.Fatal(err)
	}
	if n := e.idp.RefreshRequests(); n != 1 {
		t.Fatalf("%d refresh requests, want 1 (the finished one serves the retry)", n)
	}
}

// waitFor polls cond; it is for waiting on a background refresh, not a
// performance assertion.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAnotherReplicaMarkedConsent(t *testing.T) {
	e := newEnv(t)
	e.save(alice, time.Hour)
	key := e.key(alice, password)
	if _, err := e.access(e.b, context.Background(), alice, key); err != nil {
		t.Fatal(err)
	}
	// An admin (or another replica) marks the account while this broker
	// holds its token in memory: the status wins over the cache.
	if err := e.openStore().Update(context.Background(), alice, func(r *tokenstore.Record) error {
		r.Status, r.StatusReason = tokenstore.StatusRevoked, "revoked by admin"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.access(e.b, context.Background(), alice, key); !errors.Is(err, broker.ErrNeedsConsent) {
		t.Fatalf("err = %v, want ErrNeedsConsent", err)
	}
}

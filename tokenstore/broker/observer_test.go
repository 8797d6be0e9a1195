package broker_test

import (
	"context"
	"sync"
	"testing"
	"time"
)

// refreshLog is an Observer that remembers what it heard.
type refreshLog struct {
	mu    sync.Mutex
	calls []string
	took  []time.Duration
}

func (r *refreshLog) RefreshDone(provider, result string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, provider+" "+result)
	r.took = append(r.took, d)
}

// The observer hears one call per flight: 20 callers that share one
// refresh count once, a stored token that needs no refresh not at all,
// and a grant the IdP refuses as needs_consent.
func TestObserverHearsEachRefreshOnce(t *testing.T) {
	e := newEnv(t)
	obs := &refreshLog{}
	e.b.Observer = obs
	e.save(alice, -time.Minute)
	e.idp.SetDelay(50 * time.Millisecond)
	key := e.key(alice, password)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := e.access(e.b, context.Background(), alice, key); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := e.access(e.b, context.Background(), alice, key); err != nil {
		t.Fatal(err)
	}
	e.idp.Revoke(alice)
	e.b.Forget(alice, mustAccess(t, e, key))
	if _, err := e.access(e.b, context.Background(), alice, key); err == nil {
		t.Fatal("a revoked grant still gave a token")
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := []string{"lab refreshed", "lab needs_consent"}
	if len(obs.calls) != len(want) || obs.calls[0] != want[0] || obs.calls[1] != want[1] {
		t.Fatalf("observer heard %q, want %q", obs.calls, want)
	}
	if obs.took[0] < 50*time.Millisecond {
		t.Errorf("refresh took %s by the observer, but the IdP alone delayed 50ms", obs.took[0])
	}
}

func mustAccess(t *testing.T, e *env, key []byte) string {
	t.Helper()
	tok, err := e.access(e.b, context.Background(), alice, key)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

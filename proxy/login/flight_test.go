package login

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

// newFlightService is a login service with alice@example.test authorised
// (password "right") over the real file store, broker and test IdP.
func newFlightService(t *testing.T) *Service {
	t.Helper()
	idp := testidp.New(t)
	st, err := filestore.Open(filepath.Join(t.TempDir(), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	br := broker.New(st, map[string]*broker.Provider{"lab": {Name: "lab", OAuth2: idp.Config(""), HTTPClient: idp.Client()}}, nil)
	if err := br.Save(context.Background(), "alice@example.test", "lab", "", []byte("right"), idp.Issue("alice@example.test")); err != nil {
		t.Fatal(err)
	}
	svc, err := NewService(ServiceConfig{
		Rules:  []Rule{{Match: "*@example.test", Provider: "lab"}},
		Routes: map[string]*Route{"lab": {Provider: "lab", Endpoints: map[Protocol]upstream.Endpoint{IMAP: {Addr: "127.0.0.1:1", TLS: upstream.Implicit}}}},
		Store:  st, Broker: br,
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// A burst of first logins for one account (several connections of one
// client, or every client after a restart) costs one key derivation, not
// one each; a wrong password in the same burst still pays its own.
func TestColdLoginBurstSharesOneDerivation(t *testing.T) {
	svc := newFlightService(t)
	before := svc.kdf.runs.Load()
	var wg sync.WaitGroup
	errs := make(chan error, 21)
	for i := range 21 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := "right"
			if i == 20 {
				pw = "wrong"
			}
			_, err := svc.Authenticate(context.Background(), Request{Protocol: IMAP, Username: "alice@example.test",
				Password: pw, Remote: &net.TCPAddr{IP: net.IPv4(192, 0, 2, byte(i)), Port: 1}})
			if pw == "wrong" {
				if !errors.Is(err, ErrBadCredentials) {
					err = errors.Join(errors.New("wrong password accepted"), err)
				} else {
					err = nil
				}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	runs := svc.kdf.runs.Load() - before
	t.Logf("21 concurrent first logins (20 right, 1 wrong): %d key derivations", runs)
	if runs != 2 {
		t.Fatalf("%d derivations for one account and two distinct passwords, want 2: the burst was not shared", runs)
	}
}

// Concurrent guesses cannot all pass the lock check before the first
// failure is recorded: 100 different wrong passwords sent at once from
// one address cost at most the free allowance in key derivations.
func TestConcurrentGuessesAreHeldToTheBudget(t *testing.T) {
	svc := newFlightService(t)
	before := svc.kdf.runs.Load()
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc.Authenticate(context.Background(), Request{Protocol: IMAP, Username: "alice@example.test",
				Password: "guess-" + string(rune('A'+i%26)) + string(rune('a'+i/26)), Remote: &net.TCPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 1000 + i}})
		}()
	}
	wg.Wait()
	runs := svc.kdf.runs.Load() - before
	t.Logf("100 concurrent wrong guesses from one address: %d key derivations", runs)
	if runs > 5 {
		t.Fatalf("%d guesses were evaluated concurrently, want at most the 5 free ones", runs)
	}
}

package broker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
)

// TestTransientFailuresKeepRecord: whatever goes wrong at the IdP short of
// refusing the grant, the caller gets ErrTemporary and the store file is
// byte for byte what it was.
func TestTransientFailuresKeepRecord(t *testing.T) {
	cases := map[string]func(e *env){
		"500": func(e *env) { e.idp.SetFailure(http.StatusInternalServerError) },
		"503 with invalid_grant body": func(e *env) {
			e.idp.SetFailureBody(http.StatusServiceUnavailable, `{"error":"invalid_grant"}`)
		},
		"429":             func(e *env) { e.idp.SetFailureBody(http.StatusTooManyRequests, `{"error":"slow_down"}`) },
		"400 other error": func(e *env) { e.idp.SetFailureBody(http.StatusBadRequest, `{"error":"invalid_request"}`) },
		"malformed 200":   func(e *env) { e.idp.SetFailureBody(http.StatusOK, `<html>gateway`) },
		"200 without access token": func(e *env) {
			e.idp.SetFailureBody(http.StatusOK, `{"token_type":"Bearer","refresh_token":"rt-should-not-be-stored"}`)
		},
		"error echoing the refresh token": func(e *env) {
			e.idp.SetFailureBody(http.StatusBadRequest, fmt.Sprintf(
				`{"error":"invalid_request","error_description":"refresh_token %s is malformed"}`, e.idp.LatestRefreshToken(alice)))
		},
		"html error page": func(e *env) { e.idp.SetFailureBody(http.StatusBadGateway, "<html>Bad gateway</html>") },
		"timeout": func(e *env) {
			e.idp.SetDelay(time.Minute)
			e.b.RefreshTimeout = 100 * time.Millisecond
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.secrets = append(e.secrets, "rt-should-not-be-stored")
			e.save(alice, -time.Minute)
			before := readFile(t, e.path)
			setup(e)
			_, err := e.access(e.b, context.Background(), alice, e.key(alice, password))
			if !errors.Is(err, broker.ErrTemporary) {
				t.Fatalf("err = %v, want ErrTemporary", err)
			}
			if after := readFile(t, e.path); !bytes.Equal(before, after) {
				t.Fatal("store file changed after a transient failure")
			}
		})
	}
}

func TestUnreachableIdP(t *testing.T) {
	e := newEnv(t)
	e.save(alice, -time.Minute)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens here now
	p := e.provider()
	p.OAuth2.Endpoint.TokenURL = "http://" + addr + "/token"
	b := broker.New(e.store, map[string]*broker.Provider{"lab": p}, e.log)
	before := readFile(t, e.path)
	if _, err := e.access(b, context.Background(), alice, e.key(alice, password)); !errors.Is(err, broker.ErrTemporary) {
		t.Fatalf("err = %v, want ErrTemporary", err)
	}
	if !bytes.Equal(before, readFile(t, e.path)) {
		t.Fatal("store file changed")
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRevokedGrantNeedsConsent(t *testing.T) {
	e := newEnv(t)
	e.save(alice, -time.Minute)
	sealed := mustRecord(t, e, alice).Sealed
	e.idp.Revoke(alice)
	key := e.key(alice, password)
	if _, err := e.access(e.b, context.Background(), alice, key); !errors.Is(err, broker.ErrNeedsConsent) {
		t.Fatalf("err = %v, want ErrNeedsConsent", err)
	}
	r := mustRecord(t, e, alice)
	if r.Status != tokenstore.StatusNeedsConsent || !strings.Contains(r.StatusReason, "invalid_grant") {
		t.Fatalf("record status %s (%s), want needs_consent because of invalid_grant", r.Status, r.StatusReason)
	}
	if !bytes.Equal(r.Sealed, sealed) {
		t.Fatal("sealed grant changed when marking needs_consent")
	}
	n := e.idp.TokenRequests()
	for _, b := range []*broker.Broker{e.b, e.newBroker(e.openStore())} {
		if _, err := e.access(b, context.Background(), alice, key); !errors.Is(err, broker.ErrNeedsConsent) {
			t.Fatalf("second call: err = %v, want ErrNeedsConsent", err)
		}
	}
	if e.idp.TokenRequests() != n {
		t.Fatal("an account marked needs_consent still asked the IdP")
	}
}

// A refused client registration (an expired client secret) is the
// operator's to fix: users are told to try later, and their grants are
// untouched, so nobody has to consent again once it is fixed.
func TestInvalidClientIsTemporaryAndKeepsGrants(t *testing.T) {
	e := newEnv(t)
	e.save(alice, -time.Minute)
	before := readFile(t, e.path)
	p := e.provider()
	p.OAuth2.ClientSecret = "wrong-client-secret-0042"
	e.secrets = append(e.secrets, p.OAuth2.ClientSecret)
	b := broker.New(e.store, map[string]*broker.Provider{"lab": p}, e.log)
	if _, err := e.access(b, context.Background(), alice, e.key(alice, password)); !errors.Is(err, broker.ErrTemporary) {
		t.Fatalf("err = %v, want ErrTemporary", err)
	}
	if after := readFile(t, e.path); !bytes.Equal(before, after) {
		t.Fatal("a refused client registration changed the user's record")
	}
}

// Microsoft asks users back to the sign-in page (Conditional Access, MFA)
// with interaction_required: that needs consent, not patience.
func TestInteractionRequiredNeedsConsent(t *testing.T) {
	e := newEnv(t)
	e.save(alice, -time.Minute)
	e.idp.SetFailureBody(http.StatusBadRequest, `{"error":"interaction_required","error_description":"AADSTS50076"}`)
	if _, err := e.access(e.b, context.Background(), alice, e.key(alice, password)); !errors.Is(err, broker.ErrNeedsConsent) {
		t.Fatalf("err = %v, want ErrNeedsConsent", err)
	}
}

func mustRecord(t *testing.T, e *env, account string) *tokenstore.Record {
	t.Helper()
	r, err := e.openStore().Get(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWrongKeyNeverReachesIdP(t *testing.T) {
	for name, ttl := range map[string]time.Duration{"valid token": time.Hour, "expired token": -time.Minute} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.save(alice, ttl)
			e.secrets = append(e.secrets, "not-alices-password")
			right, wrong := e.key(alice, password), e.key(alice, "not-alices-password")
			if _, err := e.access(e.b, context.Background(), alice, wrong); !errors.Is(err, tokenstore.ErrWrongKey) {
				t.Fatalf("err = %v, want ErrWrongKey", err)
			}
			n := e.idp.TokenRequests()
			if _, err := e.access(e.b, context.Background(), alice, right); err != nil {
				t.Fatal(err)
			}
			// With the right key's token now in memory, a wrong key still fails.
			if tok, err := e.access(e.b, context.Background(), alice, wrong); !errors.Is(err, tokenstore.ErrWrongKey) || tok.AccessToken != "" {
				t.Fatalf("after caching: %v, %v; want ErrWrongKey and no token", tok, err)
			}
			if want := n + btoi(ttl < 0); e.idp.TokenRequests() != want {
				t.Fatalf("%d token requests, want %d (only the right key's refresh)", e.idp.TokenRequests(), want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestUnknownAccountAndProvider(t *testing.T) {
	e := newEnv(t)
	if _, err := e.access(e.b, context.Background(), "nobody@example.com", make([]byte, tokenstore.KeySize)); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	e.save(alice, time.Hour)
	b := broker.New(e.store, nil, e.log)
	if _, err := e.access(b, context.Background(), alice, e.key(alice, password)); !errors.Is(err, broker.ErrUnknownProvider) {
		t.Fatalf("err = %v, want ErrUnknownProvider", err)
	}
}

// Dex answers a revoked or replaced refresh token with 400
// invalid_request instead of invalid_grant; that too must send the user
// to consent rather than report an outage forever.
func TestDexStyleRefusalNeedsConsent(t *testing.T) {
	e := newEnv(t)
	e.save(alice, -time.Minute)
	e.idp.SetFailureBody(http.StatusBadRequest,
		`{"error":"invalid_request","error_description":"Refresh token is invalid or has already been claimed by another client."}`)
	if _, err := e.access(e.b, context.Background(), alice, e.key(alice, password)); !errors.Is(err, broker.ErrNeedsConsent) {
		t.Fatalf("err = %v, want ErrNeedsConsent", err)
	}
	if r := mustRecord(t, e, alice); r.Status != tokenstore.StatusNeedsConsent {
		t.Fatalf("status %s, want needs_consent", r.Status)
	}
}

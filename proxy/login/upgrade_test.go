package login_test

import (
	"context"
	"testing"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// strongerKDF stands in for a raised production default: more memory and
// passes than cheapKDF, still fast enough for a test.
func strongerKDF() tokenstore.KDFParams {
	p := cheapKDF()
	p.MemoryKiB, p.Time = 256, 2
	return p
}

// openRecord opens account's sealed grant with password and the record's
// own parameters.
func openRecord(t *testing.T, e *env, account, password string) (*tokenstore.Record, *tokenstore.Grant) {
	t.Helper()
	rec, err := e.store.Get(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	g, err := tokenstore.Open(tokenstore.DeriveKey([]byte(password), rec.KDF), account, rec.Sealed)
	if err != nil {
		t.Fatalf("record does not open with the password: %v", err)
	}
	return rec, g
}

// A record sealed under parameters weaker than the current default is
// re-sealed under the default at the next successful login, inside
// store.Update, with the same grant; a wrong password changes nothing; a
// replica still holding the old key in its verifier cache recovers.
func TestWeakRecordIsUpgradedAtLogin(t *testing.T) {
	e := newEnv(t, nil)
	e.authorize(t, "alice@example.test", "s3cret")
	before, grantBefore := openRecord(t, e, "alice@example.test", "s3cret")
	ctx := context.Background()
	// An old replica logs in with the old parameters and caches the key.
	if _, err := e.svc.Authenticate(ctx, req("alice@example.test", "s3cret")); err != nil {
		t.Fatal(err)
	}

	cfg := e.cfg
	cfg.KDF = strongerKDF
	upgraded, err := login.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := upgraded.Authenticate(ctx, req("alice@example.test", "wrong")); err == nil {
		t.Fatal("wrong password accepted")
	}
	if rec, _ := openRecord(t, e, "alice@example.test", "s3cret"); rec.KDF.Weaker(before.KDF) || rec.KDF.MemoryKiB != before.KDF.MemoryKiB {
		t.Fatalf("a wrong password changed the parameters: %+v", rec.KDF)
	}
	if _, err := upgraded.Authenticate(ctx, req("alice@example.test", "s3cret")); err != nil {
		t.Fatalf("login that upgrades: %v", err)
	}
	after, grantAfter := openRecord(t, e, "alice@example.test", "s3cret")
	if after.KDF.Weaker(strongerKDF()) || string(after.KDF.Salt) == string(before.KDF.Salt) {
		t.Fatalf("record not upgraded: %+v -> %+v", before.KDF, after.KDF)
	}
	if grantAfter.RefreshToken != grantBefore.RefreshToken {
		t.Fatal("the upgrade changed the refresh token")
	}
	if _, err := tokenstore.Open(tokenstore.DeriveKey([]byte("s3cret"), before.KDF), "alice@example.test", after.Sealed); err == nil {
		t.Fatal("the old parameters still open the upgraded record")
	}
	if _, err := e.svc.Authenticate(ctx, req("alice@example.test", "s3cret")); err != nil {
		t.Fatalf("replica with the old key cached: %v", err)
	}
	if _, err := upgraded.Authenticate(ctx, req("alice@example.test", "s3cret")); err != nil {
		t.Fatalf("login after the upgrade: %v", err)
	}
	if got, _ := openRecord(t, e, "alice@example.test", "s3cret"); string(got.KDF.Salt) != string(after.KDF.Salt) {
		t.Fatal("the record was upgraded twice")
	}
}

package broker_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// TestSaveSealed: a grant saved under a key derived elsewhere (the consent
// ticket's) opens with the password that key came from, replaces the old
// record, and serves its access token at once.
func TestSaveSealed(t *testing.T) {
	e := newEnv(t)
	e.save(alice, -time.Minute)
	const newPassword = "alice-consent-pw-3b1d"
	e.secrets = append(e.secrets, newPassword)
	kdf := fastKDF()
	key := tokenstore.DeriveKey([]byte(newPassword), kdf)
	tok := e.idp.Issue(alice)
	if err := e.b.SaveSealed(context.Background(), alice, "lab", alice, kdf, key, tok); err != nil {
		t.Fatal(err)
	}
	r := mustRecord(t, e, alice)
	if string(r.KDF.Salt) != string(kdf.Salt) || r.Status != tokenstore.StatusOK {
		t.Fatalf("record does not carry the ticket's KDF parameters: %+v", r.KDF)
	}
	if g, err := tokenstore.Open(tokenstore.DeriveKey([]byte(newPassword), r.KDF), alice, r.Sealed); err != nil || g.RefreshToken != tok.RefreshToken {
		t.Fatalf("sealed grant does not open with the consent password: %v", err)
	}
	got, err := e.access(e.b, context.Background(), alice, key)
	if err != nil || got.AccessToken != tok.AccessToken {
		t.Fatalf("AccessToken after SaveSealed: %v, %v", got, err)
	}
	if _, err := e.access(e.b, context.Background(), alice, e.key(alice, password)); err == nil {
		t.Fatal("the old password still opens the replaced record")
	}
}

func TestSaveSealedRefuses(t *testing.T) {
	e := newEnv(t)
	kdf := fastKDF()
	key := tokenstore.DeriveKey([]byte("pw"), kdf)
	tok := e.idp.Issue(alice)
	noRefresh := *tok
	noRefresh.RefreshToken = ""
	cases := []struct {
		name, provider string
		kdf            tokenstore.KDFParams
		key            []byte
		tok            *oauth2.Token
	}{
		{"short key", "lab", kdf, key[:5], tok},
		{"no salt", "lab", tokenstore.KDFParams{}, key, tok},
		{"unknown provider", "nope", kdf, key, tok},
		{"no refresh token", "lab", kdf, key, &noRefresh},
		{"no token", "lab", kdf, key, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.b.SaveSealed(context.Background(), alice, tc.provider, alice, tc.kdf, tc.key, tc.tok); err == nil {
				t.Fatal("SaveSealed accepted it")
			}
			if _, err := e.store.Get(context.Background(), alice); err == nil {
				t.Fatal("a refused save wrote a record")
			}
		})
	}
}

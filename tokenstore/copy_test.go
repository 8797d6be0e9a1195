package tokenstore_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

// TestCopiedStoreIsUseless: someone who copies the store file but not the
// password finds no token in it and cannot open the grant.
func TestCopiedStoreIsUseless(t *testing.T) {
	const password = "local-password-5e6f"
	g := grant()
	path := filepath.Join(t.TempDir(), filestore.DefaultName)
	s, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p := fastKDF()
	sealed, err := tokenstore.Seal(tokenstore.DeriveKey([]byte(password), p), "alice@example.com", g)
	if err != nil {
		t.Fatal(err)
	}
	rec := &tokenstore.Record{Account: "alice@example.com", Provider: "lab", Status: tokenstore.StatusOK, KDF: p, Sealed: sealed}
	if err := s.Put(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	s.Close()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{g.RefreshToken, g.AccessToken, password} {
		for _, form := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret)), secret[3:12]} {
			if bytes.Contains(data, []byte(form)) {
				t.Fatalf("store file contains a secret (%q)", form)
			}
		}
	}

	copyPath := filepath.Join(t.TempDir(), "stolen.json")
	if err := os.WriteFile(copyPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	stolen, err := filestore.Open(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer stolen.Close()
	r, err := stolen.Get(context.Background(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, guess := range []string{"", "password", "alice@example.com", "local-password"} {
		if _, err := tokenstore.Open(tokenstore.DeriveKey([]byte(guess), r.KDF), r.Account, r.Sealed); !errors.Is(err, tokenstore.ErrWrongKey) {
			t.Fatalf("guess %q: err = %v, want ErrWrongKey", guess, err)
		}
	}
	// The copy is complete: only the password was missing.
	if got, err := tokenstore.Open(tokenstore.DeriveKey([]byte(password), r.KDF), r.Account, r.Sealed); err != nil || got.RefreshToken != g.RefreshToken {
		t.Fatalf("with the password: %v", err)
	}
}

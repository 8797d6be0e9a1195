package tokenstore_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// fastKDF keeps tests quick; the parameters' effect is tested separately.
func fastKDF() tokenstore.KDFParams {
	p := tokenstore.DefaultKDF()
	p.MemoryKiB, p.Threads = 64, 1
	return p
}

func grant() *tokenstore.Grant {
	return &tokenstore.Grant{
		RefreshToken: "rt-0123456789abcdef-refresh",
		AccessToken:  "at-fedcba9876543210-access",
		TokenType:    "Bearer",
		Expiry:       time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	key := tokenstore.DeriveKey([]byte("correct horse"), fastKDF())
	sealed, err := tokenstore.Seal(key, "alice@example.com", grant())
	if err != nil {
		t.Fatal(err)
	}
	got, err := tokenstore.Open(key, "alice@example.com", sealed)
	if err != nil {
		t.Fatal(err)
	}
	want := grant()
	if got.RefreshToken != want.RefreshToken || got.AccessToken != want.AccessToken ||
		got.TokenType != want.TokenType || !got.Expiry.Equal(want.Expiry) {
		t.Fatalf("Open = %+v, want %+v", got, want)
	}
	again, _ := tokenstore.Seal(key, "alice@example.com", grant())
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of one grant are identical: nonce reused")
	}
	if bytes.Contains(sealed, []byte(want.RefreshToken)) || bytes.Contains(sealed, []byte(want.AccessToken)) {
		t.Fatal("sealed bytes contain a token in clear")
	}
}

func TestDeriveKey(t *testing.T) {
	p := fastKDF()
	a := tokenstore.DeriveKey([]byte("pw"), p)
	if len(a) != tokenstore.KeySize || !bytes.Equal(a, tokenstore.DeriveKey([]byte("pw"), p)) {
		t.Fatal("DeriveKey is not a deterministic KeySize-byte key")
	}
	if bytes.Equal(a, tokenstore.DeriveKey([]byte("pw2"), p)) {
		t.Fatal("different passwords give the same key")
	}
	q := fastKDF()
	if bytes.Equal(p.Salt, q.Salt) || len(p.Salt) < 16 {
		t.Fatal("DefaultKDF salts are not fresh 16-byte values")
	}
	if bytes.Equal(a, tokenstore.DeriveKey([]byte("pw"), q)) {
		t.Fatal("different salts give the same key")
	}
}

// TestDefaultKDFWorks runs one derivation with the production parameters
// (64 MiB), so a typo there cannot hide behind the tests' fast parameters.
func TestDefaultKDFWorks(t *testing.T) {
	p := tokenstore.DefaultKDF()
	if p.MemoryKiB < 19*1024 || p.Time < 1 || p.Threads < 1 {
		t.Fatalf("DefaultKDF %+v is weaker than OWASP's Argon2id minimum", p)
	}
	key := tokenstore.DeriveKey([]byte("pw"), p)
	sealed, err := tokenstore.Seal(key, "a@example.com", grant())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokenstore.Open(key, "a@example.com", sealed); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefuses(t *testing.T) {
	p := fastKDF()
	key := tokenstore.DeriveKey([]byte("correct horse"), p)
	sealed, err := tokenstore.Seal(key, "alice@example.com", grant())
	if err != nil {
		t.Fatal(err)
	}
	flipped := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	cases := []struct {
		name    string
		key     []byte
		account string
		sealed  []byte
	}{
		{"wrong password", tokenstore.DeriveKey([]byte("wrong horse"), p), "alice@example.com", sealed},
		{"moved to another account", key, "mallory@example.com", sealed},
		{"account case differs", key, "Alice@example.com", sealed},
		{"nonce flipped", key, "alice@example.com", flipped(0)},
		{"ciphertext flipped", key, "alice@example.com", flipped(len(sealed) / 2)},
		{"tag flipped", key, "alice@example.com", flipped(len(sealed) - 1)},
		{"truncated", key, "alice@example.com", sealed[:len(sealed)-1]},
		{"shorter than a nonce", key, "alice@example.com", sealed[:10]},
		{"empty", key, "alice@example.com", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := tokenstore.Open(tc.key, tc.account, tc.sealed)
			if !errors.Is(err, tokenstore.ErrWrongKey) || g != nil {
				t.Fatalf("Open = %v, %v; want ErrWrongKey", g, err)
			}
			if strings.Contains(err.Error(), "horse") || strings.Contains(err.Error(), "rt-") {
				t.Fatalf("error text leaks a secret: %q", err)
			}
		})
	}
}

func TestBadKeyLength(t *testing.T) {
	if _, err := tokenstore.Seal([]byte("short"), "a", grant()); err == nil {
		t.Fatal("Seal accepted a short key")
	}
	if _, err := tokenstore.Open([]byte("short"), "a", make([]byte, 64)); err == nil {
		t.Fatal("Open accepted a short key")
	}
}

// FuzzOpen: whatever bytes a damaged or hostile store holds, Open returns
// an error (ErrWrongKey for anything but a bad key length), never panics.
func FuzzOpen(f *testing.F) {
	key := tokenstore.DeriveKey([]byte("pw"), tokenstore.KDFParams{Salt: []byte("fixed-salt-16byt"), Time: 1, MemoryKiB: 64, Threads: 1})
	sealed, err := tokenstore.Seal(key, "a@example.com", grant())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := tokenstore.Open(key, "a@example.com", data)
		if err == nil && g == nil {
			t.Fatal("Open returned neither grant nor error")
		}
		if err != nil && !errors.Is(err, tokenstore.ErrWrongKey) {
			t.Fatalf("Open error %v is not ErrWrongKey", err)
		}
	})
}

func TestKDFWeaker(t *testing.T) {
	base := tokenstore.KDFParams{Time: 2, MemoryKiB: 65536, Threads: 2}
	cases := []struct {
		p    tokenstore.KDFParams
		want bool
	}{
		{tokenstore.KDFParams{Time: 2, MemoryKiB: 65536, Threads: 2}, false},
		{tokenstore.KDFParams{Time: 2, MemoryKiB: 65536, Threads: 1}, false},
		{tokenstore.KDFParams{Time: 1, MemoryKiB: 65536, Threads: 2}, true},
		{tokenstore.KDFParams{Time: 2, MemoryKiB: 32768, Threads: 4}, true},
		{tokenstore.KDFParams{Time: 3, MemoryKiB: 131072, Threads: 1}, false},
	}
	for _, c := range cases {
		if got := c.p.Weaker(base); got != c.want {
			t.Errorf("%+v.Weaker(%+v) = %v, want %v", c.p, base, got, c.want)
		}
	}
	if tokenstore.DefaultKDF().Weaker(base) {
		t.Error("the default is weaker than the measured production parameters")
	}
}

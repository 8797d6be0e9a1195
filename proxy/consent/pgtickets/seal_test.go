package pgtickets

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/consent"
)

func testKeys(t testing.TB) *keys {
	k, err := deriveKeys(bytes.Repeat([]byte{1}, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSealRoundTrip: a sealed ticket opens under its own row key only,
// and not at all after a flipped bit.
func TestSealRoundTrip(t *testing.T) {
	k := testKeys(t)
	tk := &consent.Ticket{ID: "ticket-id", Account: "a@example.com", Key: []byte("0123456789abcdef0123456789abcdef"),
		Expires: time.Now().Add(time.Minute).Round(0), Stage: consent.StageChoose}
	sealed, err := k.seal(tk)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.open(idHash(tk.ID), sealed)
	if err != nil || got.ID != tk.ID || !bytes.Equal(got.Key, tk.Key) {
		t.Fatalf("open: %+v, %v", got, err)
	}
	if _, err := k.open(idHash("another-id"), sealed); !errors.Is(err, errUnreadable) {
		t.Fatalf("opened under another row key: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := k.open(idHash(tk.ID), sealed); !errors.Is(err, errUnreadable) {
		t.Fatalf("opened a damaged blob: %v", err)
	}
	if _, err := deriveKeys(nil, nil); err == nil {
		t.Fatal("derived keys from no secret")
	}
}

// FuzzOpen: whatever the tickets table holds (damaged, truncated, written
// by someone else), open returns a ticket or an error, never panics, and
// a ticket only for the row it was sealed for.
func FuzzOpen(f *testing.F) {
	k := testKeys(f)
	good, _ := k.seal(&consent.Ticket{ID: "seed", Account: "a@example.com", Stage: consent.StageChoose})
	f.Add(idHash("seed"), good)
	f.Add(idHash("seed"), good[:13])
	f.Add([]byte{}, []byte{1})
	f.Fuzz(func(t *testing.T, hash, sealed []byte) {
		got, err := k.open(hash, sealed)
		if err == nil && !bytes.Equal(idHash(got.ID), hash) {
			t.Fatalf("opened a ticket for another row: %q", got.ID)
		}
	})
}

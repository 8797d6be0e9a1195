package tokenstore

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// ErrWrongKey is returned by Open when the key does not open the sealed
// grant: the local password was wrong (or the record was tampered with).
var ErrWrongKey = errors.New("tokenstore: wrong password or damaged record")

// KeySize is the length of a sealing key in bytes.
const KeySize = chacha20poly1305.KeySize

// The production Argon2id cost, measured with BenchmarkDeriveKey on a
// 2-core Xeon VM shared with other work: Time 2, 64 MiB, 2 lanes took 67-86
// ms a derivation (and about twice that in CPU time); the previous Time 1
// took 34-41 ms, under the ~50 ms a guess must cost at least. Two lanes
// halve the wait of a user without lowering an attacker's cost, which
// depends on memory times passes. Records keep their own parameters, so
// raising these later upgrades each record at its next successful login
// (see proxy/login).
const (
	DefaultKDFTime      = 2
	DefaultKDFMemoryKiB = 64 * 1024
	DefaultKDFThreads   = 2
)

// DefaultKDF returns the Argon2id parameters for new records, with a fresh
// random salt. One derivation costs roughly 70-90 ms and 64 MiB on a small
// machine: cheap for a user who logs in once per connection (and not even
// that, thanks to the verifier cache), expensive for someone guessing.
func DefaultKDF() KDFParams {
	return KDFParams{Salt: randomBytes(16), Time: DefaultKDFTime, MemoryKiB: DefaultKDFMemoryKiB, Threads: DefaultKDFThreads}
}

// Weaker reports whether p costs an attacker less than target: less
// memory or fewer passes. Lanes (Threads) do not count: they change how
// long a derivation takes, not how much work it is. A record whose
// parameters are weaker than the current default is re-sealed at its next
// successful login.
func (p KDFParams) Weaker(target KDFParams) bool {
	return p.MemoryKiB < target.MemoryKiB || p.Time < target.Time
}

// DeriveKey derives the sealing key for a record from a local password.
func DeriveKey(password []byte, p KDFParams) []byte {
	return argon2.IDKey(password, p.Salt, p.Time, p.MemoryKiB, p.Threads, KeySize)
}

// Seal encrypts g under key. The account name is bound as associated data
// so a sealed grant cannot be moved to another account's record.
func Seal(key []byte, account string, g *Grant) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", account, err)
	}
	plain, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", account, err)
	}
	nonce := randomBytes(aead.NonceSize())
	return aead.Seal(nonce, nonce, plain, []byte(account)), nil
}

// Open decrypts a grant sealed by Seal. It returns ErrWrongKey when the key
// or the account does not match.
func Open(key []byte, account string, sealed []byte) (*Grant, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", account, err)
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("open %s: %w", account, ErrWrongKey)
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(account))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", account, ErrWrongKey)
	}
	var g Grant
	if err := json.Unmarshal(plain, &g); err != nil {
		return nil, fmt.Errorf("open %s: decode: %w", account, ErrWrongKey)
	}
	return &g, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("tokenstore: crypto/rand failed: " + err.Error())
	}
	return b
}

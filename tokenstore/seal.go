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

// DefaultKDF returns the Argon2id parameters for new records, with a fresh
// random salt. One derivation costs roughly 50-100 ms and 64 MiB on a small
// machine: cheap for a user who logs in once per connection (and not even
// that, thanks to the verifier cache), expensive for someone guessing.
func DefaultKDF() KDFParams {
	return KDFParams{Salt: randomBytes(16), Time: 1, MemoryKiB: 64 * 1024, Threads: 2}
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

package login

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// verifierCache remembers, per account, the sealing key that a correct
// password produced, so that the next login with the same password costs
// an HMAC instead of an Argon2id derivation. It holds no password: the
// tag is an HMAC under a key that exists only in this process's memory.
// A wrong password never matches and always pays the full KDF.
type verifierCache struct {
	mu      sync.Mutex
	hmacKey []byte
	ttl     time.Duration
	now     func() time.Time
	entries map[string]verifierEntry
}

type verifierEntry struct {
	tag     [sha256.Size]byte
	key     []byte
	expires time.Time
}

func newVerifierCache(ttl time.Duration) *verifierCache {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("login: crypto/rand failed: " + err.Error())
	}
	return &verifierCache{hmacKey: k, ttl: ttl, now: time.Now, entries: map[string]verifierEntry{}}
}

func (c *verifierCache) tag(password string) [sha256.Size]byte {
	m := hmac.New(sha256.New, c.hmacKey)
	m.Write([]byte(password))
	var t [sha256.Size]byte
	copy(t[:], m.Sum(nil))
	return t
}

// lookup returns the cached key when password is the one last verified
// for account and the entry is still fresh.
func (c *verifierCache) lookup(account, password string) ([]byte, bool) {
	t := c.tag(password)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[account]
	if !ok || c.now().After(e.expires) || !hmac.Equal(e.tag[:], t[:]) {
		return nil, false
	}
	return e.key, true
}

// store remembers a verified password's key.
func (c *verifierCache) store(account, password string, key []byte) {
	t := c.tag(password)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[account] = verifierEntry{tag: t, key: key, expires: c.now().Add(c.ttl)}
}

// forget drops an account's entry (its record was replaced or refused).
func (c *verifierCache) forget(account string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, account)
}

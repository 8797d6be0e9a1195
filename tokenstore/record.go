package tokenstore

import (
	"context"
	"errors"
	"time"
)

// Status says whether an account's stored grant can be used.
type Status string

// The states of an account.
const (
	// StatusOK means the sealed grant is believed usable.
	StatusOK Status = "ok"
	// StatusNeedsConsent means the identity provider refused the refresh
	// token (invalid_grant): the user must authorise again. The sealed grant
	// is kept for inspection, never used again.
	StatusNeedsConsent Status = "needs_consent"
	// StatusRevoked means an administrator revoked the grant.
	StatusRevoked Status = "revoked"
)

// KDFParams are the Argon2id parameters used to derive a record's sealing
// key. They are stored with each record so that they can be raised later
// and old records still opened (and upgraded at the next login).
type KDFParams struct {
	Salt      []byte `json:"salt"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
}

// Record is everything oauthbridge keeps about one account. Only Sealed is
// secret, and it is encrypted; all other fields are safe to show an admin.
type Record struct {
	// Account is the canonical (lower-cased) login name, the store's key.
	Account string `json:"account"`
	// Provider names the configured provider that issued the grant.
	Provider string `json:"provider"`
	// UpstreamUser is the user name presented to the upstream mail server.
	UpstreamUser string `json:"upstream_user"`
	// Status says whether the grant can be used.
	Status Status `json:"status"`
	// StatusReason is a short, secret-free explanation of Status.
	StatusReason string `json:"status_reason,omitempty"`
	// KDF holds the parameters that derive the sealing key from the local
	// password.
	KDF KDFParams `json:"kdf"`
	// Sealed is the AEAD-sealed Grant (nonce and ciphertext).
	Sealed []byte `json:"sealed"`
	// AccessExpiry is when the sealed access token expires (zero if none).
	AccessExpiry time.Time `json:"access_expiry,omitzero"`
	// Created, Updated, LastRefresh and LastLogin are bookkeeping times.
	Created     time.Time `json:"created,omitzero"`
	Updated     time.Time `json:"updated,omitzero"`
	LastRefresh time.Time `json:"last_refresh,omitzero"`
	LastLogin   time.Time `json:"last_login,omitzero"`
	// Version increases with every write; backends use it to detect a
	// record that changed underneath a reader.
	Version int64 `json:"version"`
}

// Clone returns a deep copy, so a caller can change it without racing
// other readers of the original.
func (r *Record) Clone() *Record {
	c := *r
	c.KDF.Salt = append([]byte(nil), r.KDF.Salt...)
	c.Sealed = append([]byte(nil), r.Sealed...)
	return &c
}

// Grant is the secret content of a record, sealed in Record.Sealed.
type Grant struct {
	RefreshToken string    `json:"refresh_token"`
	AccessToken  string    `json:"access_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

// ErrNotFound is returned when the store has no record for an account.
var ErrNotFound = errors.New("tokenstore: account not found")

// ErrNoChange may be returned by an Update callback to leave the record as
// it is; Update then returns nil without writing.
var ErrNoChange = errors.New("tokenstore: no change")

// Store persists records. Implementations must be safe for concurrent use,
// and, where several processes share one store, safe across processes.
type Store interface {
	// Get returns a copy of the account's record or ErrNotFound.
	Get(ctx context.Context, account string) (*Record, error)
	// Put creates or replaces the account's record.
	Put(ctx context.Context, r *Record) error
	// Update reads the record, calls fn with a copy, and writes fn's changes
	// back atomically. No other Update of the same account (in this process
	// or, for shared backends, in any other) runs between the read and the
	// write. fn sees ErrNotFound-free input: Update returns ErrNotFound
	// without calling fn when there is no record. If fn returns an error,
	// nothing is written; ErrNoChange makes Update return nil.
	Update(ctx context.Context, account string, fn func(r *Record) error) error
	// Delete removes the account's record; deleting a missing one is not an
	// error.
	Delete(ctx context.Context, account string) error
	// List returns copies of all records, sorted by account.
	List(ctx context.Context) ([]*Record, error)
	// Close releases the store's resources.
	Close() error
}

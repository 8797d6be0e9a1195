package postgres

import (
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// columns lists oauthbridge_accounts' columns in the order scanRecord and
// recordArgs use.
const columns = `account, provider, upstream_user, status, status_reason,
	kdf_salt, kdf_time, kdf_memory_kib, kdf_threads, sealed,
	access_expiry, created, updated, last_refresh, last_login, version`

// row holds one record as the database types it: nullable times, wide
// integers that are range-checked before they become the record's.
type row struct {
	account, provider, upstreamUser, status, statusReason  string
	salt, sealed                                           []byte
	kdfTime, kdfMemory                                     int64
	kdfThreads                                             int32
	accessExpiry, created, updated, lastRefresh, lastLogin *time.Time
	version                                                int64
}

func (w *row) targets() []any {
	return []any{&w.account, &w.provider, &w.upstreamUser, &w.status, &w.statusReason,
		&w.salt, &w.kdfTime, &w.kdfMemory, &w.kdfThreads, &w.sealed,
		&w.accessExpiry, &w.created, &w.updated, &w.lastRefresh, &w.lastLogin, &w.version}
}

// scanRecord reads one row. A row whose KDF numbers do not fit the record
// (edited by hand, damaged) is an error, not a silently truncated value.
func scanRecord(r pgx.Row) (*tokenstore.Record, error) {
	var w row
	if err := r.Scan(w.targets()...); err != nil {
		return nil, err
	}
	if w.kdfTime < 0 || w.kdfTime > math.MaxUint32 || w.kdfMemory < 0 || w.kdfMemory > math.MaxUint32 ||
		w.kdfThreads < 0 || w.kdfThreads > math.MaxUint8 {
		return nil, fmt.Errorf("record %s has out-of-range KDF parameters", w.account)
	}
	return &tokenstore.Record{
		Account: w.account, Provider: w.provider, UpstreamUser: w.upstreamUser,
		Status: tokenstore.Status(w.status), StatusReason: w.statusReason,
		KDF: tokenstore.KDFParams{Salt: w.salt, Time: uint32(w.kdfTime),
			MemoryKiB: uint32(w.kdfMemory), Threads: uint8(w.kdfThreads)},
		Sealed:       w.sealed,
		AccessExpiry: fromDB(w.accessExpiry), Created: fromDB(w.created), Updated: fromDB(w.updated),
		LastRefresh: fromDB(w.lastRefresh), LastLogin: fromDB(w.lastLogin),
		Version: w.version,
	}, nil
}

// recordArgs are the values of columns for r, with updated and version as
// given (the store owns them).
func recordArgs(r *tokenstore.Record, updated time.Time, version int64) []any {
	return []any{r.Account, r.Provider, r.UpstreamUser, string(r.Status), r.StatusReason,
		nonNil(r.KDF.Salt), int64(r.KDF.Time), int64(r.KDF.MemoryKiB), int32(r.KDF.Threads), nonNil(r.Sealed),
		toDB(r.AccessExpiry), toDB(r.Created), updated, toDB(r.LastRefresh), toDB(r.LastLogin), version}
}

// toDB maps the zero time, which the record uses for "never", to NULL.
func toDB(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func fromDB(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// nonNil keeps NOT NULL bytea columns happy with an empty slice.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// now is the store's write time, at PostgreSQL's microsecond precision so
// that what a writer returns equals what a reader reads.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

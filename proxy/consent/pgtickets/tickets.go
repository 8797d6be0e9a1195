package pgtickets

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauthbridge/oauthbridge/proxy/consent"
)

// Deadlines; the caller's context applies as well.
const (
	// queryTimeout bounds one plain statement.
	queryTimeout = 10 * time.Second
	// lockWait bounds Update's wait for a ticket another replica holds:
	// holders only decode, change and re-encode it.
	lockWait = 30 * time.Second
	// migrateTimeout bounds Open's schema work, waits for a peer included.
	migrateTimeout = 60 * time.Second
	// sweepEvery is how often a process deletes expired tickets.
	sweepEvery = time.Minute
)

// Options configure Open.
type Options struct {
	// Limits bound the open tickets, across every replica together; zero
	// values take consent's defaults.
	Limits consent.TicketLimits
	// Secret, if set, is mixed into the keys with the database's own
	// secret, so that the tickets table cannot be read, nor the consent
	// site's forms forged, with the database alone. Every replica must
	// have the same Secret; changing it voids the open tickets.
	Secret []byte
}

// Tickets is a consent.TicketStore in PostgreSQL, shared by every
// oauthbridge replica on the database. It is safe for concurrent use.
type Tickets struct {
	pool      *pgxpool.Pool
	limits    consent.TicketLimits
	keys      *keys
	lastSweep atomic.Int64 // unix nanoseconds
}

var _ consent.TicketStore = (*Tickets)(nil)

// Open creates or migrates the ticket tables in pool's database (the first
// schema of its search_path), creates the site secret on first use, and
// returns the store. The pool stays the caller's.
func Open(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Tickets, error) {
	if err := migrate(ctx, pool); err != nil {
		return nil, err
	}
	site, err := siteSecret(ctx, pool)
	if err != nil {
		return nil, err
	}
	k, err := deriveKeys(site, opts.Secret)
	if err != nil {
		return nil, err
	}
	return &Tickets{pool: pool, limits: opts.Limits.WithDefaults(), keys: k}, nil
}

// FormKey is the key for the consent site's form tokens
// (consent.Config.FormKey), the same on every replica of the database.
func (s *Tickets) FormKey() []byte { return append([]byte(nil), s.keys.formKey...) }

// Get implements consent.TicketStore.
func (s *Tickets) Get(ctx context.Context, id string) (*consent.Ticket, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	h := idHash(id)
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT sealed FROM oauthbridge_consent_tickets WHERE id_hash = $1 AND expires > now()`, h).Scan(&sealed)
	return s.opened(h, sealed, err, "get")
}

// Newest implements consent.TicketStore.
func (s *Tickets) Newest(ctx context.Context, account string) (*consent.Ticket, error) {
	s.maybeSweep(ctx)
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var h, sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT id_hash, sealed FROM oauthbridge_consent_tickets
		WHERE account = $1 AND expires > now() ORDER BY created DESC LIMIT 1`, account).Scan(&h, &sealed)
	return s.opened(h, sealed, err, "newest")
}

// opened turns a row (or its absence) into a ticket or an error. A ticket
// that does not open (sealed under another secret) counts as missing.
func (s *Tickets) opened(h, sealed []byte, err error, what string) (*consent.Ticket, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, consent.ErrTicketNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("pgtickets: %s: %w", what, err)
	}
	t, err := s.keys.open(h, sealed)
	if errors.Is(err, errUnreadable) {
		return nil, fmt.Errorf("%w (%w)", consent.ErrTicketNotFound, err)
	}
	return t, err
}

// Update implements consent.TicketStore: the row stays locked from the
// read to the write, so that of two replicas changing one ticket the
// second sees the first's result (its stage checks then refuse a second
// claim: a ticket completes once, whichever replica serves it).
func (s *Tickets) Update(ctx context.Context, id string, fn func(*consent.Ticket) error) error {
	ctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		h := idHash(id)
		var sealed []byte
		err := tx.QueryRow(ctx, `SELECT sealed FROM oauthbridge_consent_tickets
			WHERE id_hash = $1 AND expires > now() FOR UPDATE`, h).Scan(&sealed)
		t, err := s.opened(h, sealed, err, "update")
		if err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
		if t.ID != id {
			return errors.New("pgtickets: update: the callback changed the ticket id")
		}
		return s.write(ctx, tx, t)
	})
}

// write stores t over its locked row.
func (s *Tickets) write(ctx context.Context, tx pgx.Tx, t *consent.Ticket) error {
	sealed, err := s.keys.seal(t)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE oauthbridge_consent_tickets SET account = $2, expires = $3, busy = $4, sealed = $5
		WHERE id_hash = $1`, idHash(t.ID), t.Account, t.Expires, t.Busy(), sealed)
	if err != nil {
		return fmt.Errorf("pgtickets: update: %w", err)
	}
	return nil
}

// Delete implements consent.TicketStore.
func (s *Tickets) Delete(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM oauthbridge_consent_tickets WHERE id_hash = $1`, idHash(id)); err != nil {
		return fmt.Errorf("pgtickets: delete: %w", err)
	}
	return nil
}

// maybeSweep deletes expired tickets, at most once per sweepEvery per
// process, so that a sealed key does not outlive its ticket for long even
// when no new consent starts. A failure waits for the next sweep.
func (s *Tickets) maybeSweep(ctx context.Context) {
	last := s.lastSweep.Load()
	now := time.Now().UnixNano()
	if now-last < int64(sweepEvery) || !s.lastSweep.CompareAndSwap(last, now) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	_, _ = s.pool.Exec(ctx, `DELETE FROM oauthbridge_consent_tickets WHERE expires <= now()`)
}

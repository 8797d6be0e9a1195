package pgtickets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oauthbridge/oauthbridge/proxy/consent"
)

// Add implements consent.TicketStore with MemoryTickets' bounds, across
// every replica: expired tickets go first, then, when the account is at
// its bound, its oldest idle ticket, then, when the store is full, the
// oldest idle ticket overall. Busy tickets are never evicted. Adds are
// serialised by a transaction-scoped advisory lock, so that replicas
// adding at once cannot overshoot the bounds.
func (s *Tickets) Add(ctx context.Context, t *consent.Ticket) error {
	sealed, err := s.keys.seal(t)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, addLockKey); err != nil {
			return fmt.Errorf("take the add lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM oauthbridge_consent_tickets WHERE expires <= now()`); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		if err := s.makeRoom(ctx, tx, t.Account); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO oauthbridge_consent_tickets (id_hash, account, created, expires, busy, sealed)
			VALUES ($1, $2, $3, $4, $5, $6)`, idHash(t.ID), t.Account, t.Created, t.Expires, t.Busy(), sealed)
		return err
	})
	if errors.Is(err, consent.ErrTooManyTickets) {
		return err
	}
	if err != nil {
		return fmt.Errorf("pgtickets: add: %w", err)
	}
	s.lastSweep.Store(time.Now().UnixNano()) // just swept: the next Newest need not
	return nil
}

// makeRoom evicts within the bounds, or fails with ErrTooManyTickets.
func (s *Tickets) makeRoom(ctx context.Context, tx pgx.Tx, account string) error {
	var perAccount, total int
	err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE account = $1), count(*) FROM oauthbridge_consent_tickets`,
		account).Scan(&perAccount, &total)
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	if perAccount >= s.limits.PerAccount {
		if err := evictOldestIdle(ctx, tx, `account = $1 AND NOT busy`, account); err != nil {
			return err
		}
		total--
	}
	if total >= s.limits.Total {
		return evictOldestIdle(ctx, tx, `NOT busy`)
	}
	return nil
}

// evictOldestIdle deletes the oldest ticket matching where, or reports
// that there is none to make room with.
func evictOldestIdle(ctx context.Context, tx pgx.Tx, where string, args ...any) error {
	tag, err := tx.Exec(ctx, `DELETE FROM oauthbridge_consent_tickets WHERE id_hash = (
		SELECT id_hash FROM oauthbridge_consent_tickets WHERE `+where+` ORDER BY created LIMIT 1)`, args...)
	if err != nil {
		return fmt.Errorf("evict: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return consent.ErrTooManyTickets
	}
	return nil
}

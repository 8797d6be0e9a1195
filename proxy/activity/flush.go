package activity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// DefaultFlushInterval is how often Run writes last-login times.
const DefaultFlushInterval = 10 * time.Minute

// flushTimeout bounds one Flush.
const flushTimeout = 30 * time.Second

// Flush writes every last-login time that changed since the previous
// Flush into its account's record (only ever moving it forward). An
// account whose write failed stays pending for the next Flush; deleted
// accounts are dropped.
func (t *Tracker) Flush(ctx context.Context, store tokenstore.Store) error {
	pending := t.takeDirty()
	var errs []error
	for account, when := range pending {
		err := store.Update(ctx, account, func(r *tokenstore.Record) error {
			if !r.LastLogin.Before(when) {
				return tokenstore.ErrNoChange
			}
			r.LastLogin = when.UTC()
			return nil
		})
		if err != nil && !errors.Is(err, tokenstore.ErrNotFound) {
			t.markDirty(account)
			errs = append(errs, fmt.Errorf("activity: record last login of %s: %w", account, err))
		}
	}
	return errors.Join(errs...)
}

func (t *Tracker) takeDirty() map[string]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]time.Time, len(t.dirty))
	for a := range t.dirty {
		out[a] = t.last[a]
	}
	clear(t.dirty)
	return out
}

func (t *Tracker) markDirty(account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dirty[account] = true
}

// Run calls Flush every interval (DefaultFlushInterval when zero) until
// ctx ends, and once more after that, so a clean stop loses nothing.
// store is asked for the current store at each flush.
func (t *Tracker) Run(ctx context.Context, store func() tokenstore.Store, interval time.Duration, log *zap.Logger) {
	if interval <= 0 {
		interval = DefaultFlushInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.flushLogged(context.WithoutCancel(ctx), store(), log)
			return
		}
		t.flushLogged(ctx, store(), log)
	}
}

func (t *Tracker) flushLogged(ctx context.Context, store tokenstore.Store, log *zap.Logger) {
	ctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	if err := t.Flush(ctx, store); err != nil && log != nil {
		log.Warn("could not record last login times", zap.Error(err))
	}
}

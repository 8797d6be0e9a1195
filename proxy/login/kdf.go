package login

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// kdfGate bounds the Argon2id derivations running at once. Each one takes
// the parameters' memory (64 MiB by default) for its whole run, so without
// a bound a burst of logins, or an attacker's, could take the process's
// memory; with it they wait their turn, within their context's deadline.
// Unknown users and wrong passwords queue the same way, so the gate adds
// no timing difference between them.
type kdfGate struct {
	slots chan struct{}
	// runs counts derivations, for tests and metrics.
	runs atomic.Int64
}

func newKDFGate(n int) *kdfGate {
	if n <= 0 {
		n = max(runtime.GOMAXPROCS(0), 2)
	}
	return &kdfGate{slots: make(chan struct{}, n)}
}

// derive returns the key for password under p, or ErrTemporary when ctx
// ends while waiting for a slot.
func (g *kdfGate) derive(ctx context.Context, password string, p tokenstore.KDFParams) ([]byte, error) {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting to check the password: %w: %v", ErrTemporary, ctx.Err())
	}
	defer func() { <-g.slots }()
	g.runs.Add(1)
	return tokenstore.DeriveKey([]byte(password), p), nil
}

// upgrade re-seals rec's grant under the current KDF parameters when its
// own are weaker, and returns the key that opens the record afterwards.
// It runs only after password opened the record, inside store.Update so
// that a concurrent refresh (which also writes the record) cannot be lost,
// and it changes nothing if the record was replaced or upgraded meanwhile.
// A failure is logged and leaves the old, still valid, record and key.
func (s *Service) upgrade(ctx context.Context, rec *tokenstore.Record, password string, key []byte) []byte {
	target := s.cfg.KDF()
	if !rec.KDF.Weaker(target) {
		return key
	}
	newKey, err := s.kdf.derive(ctx, password, target)
	if err != nil {
		return key
	}
	upgraded := false
	err = s.cfg.Store.Update(ctx, rec.Account, func(r *tokenstore.Record) error {
		if !sameKDF(r.KDF, rec.KDF) {
			return tokenstore.ErrNoChange
		}
		g, err := tokenstore.Open(key, r.Account, r.Sealed)
		if err != nil {
			return tokenstore.ErrNoChange
		}
		if r.Sealed, err = tokenstore.Seal(newKey, r.Account, g); err != nil {
			return err
		}
		r.KDF, upgraded = target, true
		return nil
	})
	fields := []zap.Field{zap.String("account", rec.Account), zap.Uint32("from_time", rec.KDF.Time),
		zap.Uint32("from_memory_kib", rec.KDF.MemoryKiB), zap.Uint32("to_time", target.Time),
		zap.Uint32("to_memory_kib", target.MemoryKiB)}
	switch {
	case err != nil:
		s.log.Warn("could not upgrade the password's key derivation", append(fields, zap.Error(err))...)
	case upgraded:
		s.log.Info("upgraded the password's key derivation", fields...)
		return newKey
	}
	return key
}

func sameKDF(a, b tokenstore.KDFParams) bool {
	return a.Time == b.Time && a.MemoryKiB == b.MemoryKiB && a.Threads == b.Threads && bytes.Equal(a.Salt, b.Salt)
}

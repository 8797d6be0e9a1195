package broker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// writeGrace is extra time, beyond the refresh deadline, for writing the
// result to the store: a token the identity provider rotated must reach
// the store even when the answer came at the last moment.
const writeGrace = 10 * time.Second

// flight is one refresh of one account that concurrent callers share.
type flight struct {
	done    chan struct{}
	keyHash [32]byte // callers with another key must not share the result
	tok     Token
	how     string
	err     error
}

// refresh joins or starts the account's refresh and waits for it or for
// ctx. The refresh itself runs detached from ctx (see fly).
func (b *Broker) refresh(ctx context.Context, account string, key []byte, p *Provider) (Token, string, error) {
	kh := sha256.Sum256(key)
	for {
		f, leader := b.joinFlight(ctx, account, key, kh, p)
		select {
		case <-f.done:
		case <-ctx.Done():
			return Token{}, "temporary", fmt.Errorf("broker: waiting for refresh of %s: %w: %w", account, ErrTemporary, ctx.Err())
		}
		if f.keyHash != kh {
			continue // another key's flight: run our own after it
		}
		if leader {
			return f.tok, f.how, f.err
		}
		how := "shared"
		if f.err != nil {
			how = f.how
		}
		return f.tok, how, f.err
	}
}

// joinFlight returns the account's running flight, or starts one.
func (b *Broker) joinFlight(ctx context.Context, account string, key []byte, kh [32]byte, p *Provider) (*flight, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f := b.flights[account]; f != nil {
		return f, false
	}
	f := &flight{done: make(chan struct{}), keyHash: kh}
	b.flights[account] = f
	go b.fly(context.WithoutCancel(ctx), account, bytes.Clone(key), p, f)
	return f, true
}

// fly runs a refresh to completion under its own deadline, whatever
// happens to the callers waiting for it.
func (b *Broker) fly(ctx context.Context, account string, key []byte, p *Provider, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout()+writeGrace)
	defer cancel()
	start := time.Now()
	f.tok, f.how, f.err = b.refreshInStore(ctx, account, key, p)
	took := time.Since(start)
	b.logFlight(account, p, f, took)
	b.observe(p.Name, f.how, took)
	b.mu.Lock()
	delete(b.flights, account)
	b.mu.Unlock()
	close(f.done)
}

// logFlight writes the refresh's line: info when it worked, a warning
// when the account needs consent or the refresh failed.
func (b *Broker) logFlight(account string, p *Provider, f *flight, d time.Duration) {
	fields := []zap.Field{zap.String("account", account), zap.String("provider", p.Name),
		zap.String("result", f.how), zap.Duration("duration", d)}
	if f.err != nil {
		b.log.Warn("token refresh", append(fields, zap.Error(f.err))...)
		return
	}
	b.log.Info("token refresh", fields...)
}

func (b *Broker) timeout() time.Duration {
	if b.RefreshTimeout > 0 {
		return b.RefreshTimeout
	}
	return DefaultRefreshTimeout
}

// outcome is what the Update callback learned.
type outcome struct {
	tok     Token
	how     string
	consent error // set when the identity provider refused the grant
}

// refreshInStore runs the refresh inside store.Update, so that it works on
// the newest grant and no other refresh of the account (here or in
// another replica) runs at the same time.
func (b *Broker) refreshInStore(ctx context.Context, account string, key []byte, p *Provider) (Token, string, error) {
	var out outcome
	err := b.store.Update(ctx, account, func(r *tokenstore.Record) error {
		return b.refreshRecord(ctx, r, key, p, &out)
	})
	switch {
	case out.consent != nil:
		if err != nil {
			b.log.Warn("could not record that the account needs consent", zap.String("account", account), zap.Error(err))
		}
		b.forgetAll(account)
		return Token{}, "needs_consent", out.consent
	case err == nil:
		b.remember(account, key, out.tok)
		return out.tok, out.how, nil
	case errors.Is(err, tokenstore.ErrWrongKey):
		return Token{}, "wrong_key", fmt.Errorf("broker: %w", err)
	case errors.Is(err, tokenstore.ErrNotFound):
		return Token{}, "not_found", fmt.Errorf("broker: %w", err)
	case errors.Is(err, ErrNeedsConsent):
		return Token{}, "needs_consent", err
	case errors.Is(err, ErrTemporary):
		return Token{}, "temporary", err
	}
	return Token{}, "temporary", fmt.Errorf("broker: store %s: %w: %w", account, ErrTemporary, err)
}

// refreshRecord is the Update callback. It re-checks the record (another
// replica may have refreshed or marked it meanwhile), asks the identity
// provider only when it must, and changes r only on success or refusal.
func (b *Broker) refreshRecord(ctx context.Context, r *tokenstore.Record, key []byte, p *Provider, out *outcome) error {
	if r.Status != tokenstore.StatusOK {
		return consentError(r)
	}
	g, err := tokenstore.Open(key, r.Account, r.Sealed)
	if err != nil {
		return err
	}
	if tok, ok := b.usable(r, g); ok {
		out.tok, out.how = tok, "reused"
		return tokenstore.ErrNoChange
	}
	nt, err := b.exchange(ctx, p, g.RefreshToken)
	if err != nil {
		return b.refreshFailed(r, p, g.RefreshToken, err, out)
	}
	return b.storeRefreshed(r, key, g, nt, out)
}

// refreshFailed marks the record when the identity provider refused the
// grant, and otherwise leaves it alone and reports a temporary failure.
func (b *Broker) refreshFailed(r *tokenstore.Record, p *Provider, rt string, err error, out *outcome) error {
	why := describe(err, rt, p.OAuth2.ClientSecret)
	if clientRefused(err) {
		b.log.Error("the identity provider refuses oauthbridge's client credentials; check client_id and client_secret",
			zap.String("provider", p.Name), zap.String("reason", why))
	}
	if !refusedGrant(err) {
		return fmt.Errorf("broker: refresh %s at %s: %s: %w", r.Account, p.Name, why, ErrTemporary)
	}
	r.Status = tokenstore.StatusNeedsConsent
	r.StatusReason = "identity provider refused the refresh token: " + why
	out.consent = fmt.Errorf("%w: %s: %s", ErrNeedsConsent, r.Account, r.StatusReason)
	return nil
}

// storeRefreshed seals the new grant into r. A refresh answer without a
// refresh token keeps the old one (RFC 6749 section 6 makes it optional).
func (b *Broker) storeRefreshed(r *tokenstore.Record, key []byte, old *tokenstore.Grant, nt *oauth2.Token, out *outcome) error {
	now := time.Now().UTC()
	g := &tokenstore.Grant{RefreshToken: nt.RefreshToken, AccessToken: nt.AccessToken, TokenType: nt.TokenType, Expiry: nt.Expiry}
	if g.RefreshToken == "" {
		g.RefreshToken = old.RefreshToken
	}
	if g.Expiry.IsZero() {
		g.Expiry = now.Add(assumedLifetime)
	}
	sealed, err := tokenstore.Seal(key, r.Account, g)
	if err != nil {
		return fmt.Errorf("broker: seal %s: %w: %w", r.Account, ErrTemporary, err)
	}
	r.Sealed, r.AccessExpiry, r.LastRefresh, r.StatusReason = sealed, g.Expiry, now, ""
	out.tok = Token{AccessToken: g.AccessToken, Expiry: g.Expiry, UpstreamUser: r.UpstreamUser, Provider: r.Provider}
	out.how = "refreshed"
	return nil
}

// exchange asks the identity provider for a new access token.
func (b *Broker) exchange(ctx context.Context, p *Provider, rt string) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout())
	defer cancel()
	if p.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, p.HTTPClient)
	}
	return p.OAuth2.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
}

package broker

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// Save stores a brand-new grant after consent, replacing any previous
// record of account: fresh KDF parameters (and so a fresh salt), the key
// derived from password, the grant sealed, status ok. The access token in
// tok, if any, is served from memory and store until it runs low.
func (b *Broker) Save(ctx context.Context, account, provider, upstreamUser string, password []byte, tok *oauth2.Token) error {
	if tok == nil || tok.RefreshToken == "" {
		return fmt.Errorf("broker: save %s: the identity provider issued no refresh token (is offline access requested?)", account)
	}
	if len(password) == 0 {
		return fmt.Errorf("broker: save %s: empty local password", account)
	}
	if b.providers[provider] == nil {
		return fmt.Errorf("broker: save %s: %w: %q", account, ErrUnknownProvider, provider)
	}
	now := time.Now().UTC()
	g := &tokenstore.Grant{RefreshToken: tok.RefreshToken, AccessToken: tok.AccessToken, TokenType: tok.TokenType, Expiry: tok.Expiry}
	if g.AccessToken != "" && g.Expiry.IsZero() {
		g.Expiry = now.Add(assumedLifetime)
	}
	params := b.kdf()
	key := tokenstore.DeriveKey(password, params)
	sealed, err := tokenstore.Seal(key, account, g)
	if err != nil {
		return fmt.Errorf("broker: save %s: %w", account, err)
	}
	rec := &tokenstore.Record{
		Account: account, Provider: provider, UpstreamUser: upstreamUser,
		Status: tokenstore.StatusOK, KDF: params, Sealed: sealed,
		AccessExpiry: g.Expiry, Created: now, LastRefresh: now,
	}
	if err := b.store.Put(ctx, rec); err != nil {
		return fmt.Errorf("broker: save %s: %w", account, err)
	}
	b.forgetAll(account)
	if t, ok := b.usable(rec, g); ok {
		b.remember(account, key, t)
	}
	b.log.Info("grant saved", zap.String("account", account), zap.String("provider", provider))
	return nil
}

func (b *Broker) kdf() tokenstore.KDFParams {
	if b.KDF != nil {
		return b.KDF()
	}
	return tokenstore.DefaultKDF()
}

// forgetAll drops what memory holds about account's previous grant.
func (b *Broker) forgetAll(account string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.cache, account)
	delete(b.refused, account)
}

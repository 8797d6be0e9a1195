package broker

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// SaveSealed stores a brand-new grant after consent, like Save, but under
// a key the caller already derived with kdf (tokenstore.DeriveKey). The
// consent page uses it: its ticket holds the key derived from the password
// typed at the login that started consent, never the password itself.
// The previous record of account, if any, is replaced only here, that is
// only once consent has succeeded. key is not kept beyond the call except
// as the in-memory cache's proof of possession.
func (b *Broker) SaveSealed(ctx context.Context, account, provider, upstreamUser string, kdf tokenstore.KDFParams, key []byte, tok *oauth2.Token) error {
	if tok == nil || tok.RefreshToken == "" {
		return errNoRefreshToken(account)
	}
	if len(key) != tokenstore.KeySize || len(kdf.Salt) == 0 {
		return fmt.Errorf("broker: save %s: no sealing key derived", account)
	}
	if b.providers[provider] == nil {
		return fmt.Errorf("broker: save %s: %w: %q", account, ErrUnknownProvider, provider)
	}
	now := time.Now().UTC()
	g := &tokenstore.Grant{RefreshToken: tok.RefreshToken, AccessToken: tok.AccessToken, TokenType: tok.TokenType, Expiry: tok.Expiry}
	if g.AccessToken != "" && g.Expiry.IsZero() {
		g.Expiry = now.Add(assumedLifetime)
	}
	sealed, err := tokenstore.Seal(key, account, g)
	if err != nil {
		return fmt.Errorf("broker: save %s: %w", account, err)
	}
	rec := &tokenstore.Record{
		Account: account, Provider: provider, UpstreamUser: upstreamUser,
		Status: tokenstore.StatusOK, KDF: kdf, Sealed: sealed,
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

func errNoRefreshToken(account string) error {
	return fmt.Errorf("broker: save %s: the identity provider issued no refresh token (is offline access requested?)", account)
}

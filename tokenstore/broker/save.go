package broker

import (
	"context"
	"fmt"
	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// Save stores a brand-new grant after consent, replacing any previous
// record of account: fresh KDF parameters (and so a fresh salt), the key
// derived from password, the grant sealed, status ok. The access token in
// tok, if any, is served from memory and store until it runs low.
func (b *Broker) Save(ctx context.Context, account, provider, upstreamUser string, password []byte, tok *oauth2.Token) error {
	if len(password) == 0 {
		return fmt.Errorf("broker: save %s: empty local password", account)
	}
	// Checked before the (deliberately slow) derivation, not only after.
	if tok == nil || tok.RefreshToken == "" {
		return errNoRefreshToken(account)
	}
	params := b.kdf()
	return b.SaveSealed(ctx, account, provider, upstreamUser, params, tokenstore.DeriveKey(password, params), tok)
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

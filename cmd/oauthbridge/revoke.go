package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/provider"
	"github.com/oauthbridge/oauthbridge/proxy/admin"
	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// revokeTimeout bounds the revoke command's network and store work.
const revokeTimeout = time.Minute

// revoke revokes account at the identity provider (RFC 7009, when the
// provider has an endpoint and the local password is given), then here:
// the record is marked revoked and its sealed grant dropped, so the next
// login asks for consent. Open sessions are not cut.
func (r *accountsReq) revoke(ctx context.Context, account string) error {
	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	store, err := openStore(r.cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	rec, err := store.Get(ctx, account)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return fmt.Errorf("%s: %w", account, admin.ErrNoAccount)
	} else if err != nil {
		return err
	}
	idpErr := r.revokeAtIdP(ctx, rec)
	if err := admin.MarkRevoked(ctx, store, account); err != nil {
		return err
	}
	fmt.Fprintf(r.e.stdout, "%s: revoked here; the stored grant is gone and the next login asks for consent. Open sessions run until they end.\n", account)
	return idpErr
}

// revokeAtIdP says and does what can be done at the identity provider.
func (r *accountsReq) revokeAtIdP(ctx context.Context, rec *tokenstore.Record) error {
	out := r.e.stdout
	pc := r.cfg.Providers[rec.Provider]
	if r.localOnly || pc == nil || rec.Status != tokenstore.StatusOK || len(rec.Sealed) == 0 {
		fmt.Fprintf(out, "%s: not revoked at the identity provider (%s); revoke the app's access there if needed.\n", rec.Account, notAtIdPReason(r.localOnly, pc == nil, rec))
		return nil
	}
	p, err := provider.New(ctx, rec.Provider, pc, redirectURL(r.cfg), zap.NewNop())
	if err != nil {
		return fmt.Errorf("provider %s: %w", rec.Provider, err)
	}
	eps, err := p.Endpoints(ctx)
	if err != nil {
		return fmt.Errorf("not revoked at the identity provider: %w", err)
	}
	if eps.RevokeURL == "" {
		fmt.Fprintf(out, "%s: provider %s has no revocation endpoint (RFC 7009): the refresh token stays valid there until it expires or the user or tenant admin withdraws the app's access.\n", rec.Account, rec.Provider)
		return nil
	}
	pw, err := askPassword(r.e, r.pwStdin, "Local password of "+rec.Account+" (to revoke at the provider too): ")
	if err != nil {
		return fmt.Errorf("not revoked at the identity provider: %w (or use --local-only)", err)
	}
	defer clear(pw)
	g, err := tokenstore.Open(tokenstore.DeriveKey(pw, rec.KDF), rec.Account, rec.Sealed)
	if err != nil {
		return errors.New("not revoked at the identity provider: that password does not open the stored grant (revoked here anyway)")
	}
	if err := admin.RevokeToken(ctx, p.HTTPClient, eps.RevokeURL, p.OAuth2, g.RefreshToken); err != nil {
		return fmt.Errorf("not revoked at the identity provider: %w", err)
	}
	fmt.Fprintf(out, "%s: refresh token revoked at %s.\n", rec.Account, rec.Provider)
	return nil
}

func notAtIdPReason(localOnly, unknownProvider bool, rec *tokenstore.Record) string {
	switch {
	case localOnly:
		return "--local-only"
	case unknownProvider:
		return "provider " + rec.Provider + " is not configured"
	}
	return "the account was already " + string(rec.Status)
}

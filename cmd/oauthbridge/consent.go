package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/internal/provider"
	"github.com/oauthbridge/oauthbridge/proxy/consent"
	"github.com/oauthbridge/oauthbridge/proxy/consent/pgtickets"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
	"github.com/oauthbridge/oauthbridge/tokenstore/postgres"
)

// consentSites is what the consent sites of successive generations share:
// the open tickets and the key of their forms, so that a reload voids
// neither a link a user was given nor a page they have open. It closes
// every site it built at shutdown (a replaced site's device-flow pollers
// finish on their own, within a ticket's lifetime).
type consentSites struct {
	tickets consent.TicketStore
	formKey []byte

	mu    sync.Mutex
	sites []*consent.Service
}

// newConsentSites keeps tickets in memory with a random form key, or,
// when the token store is PostgreSQL, in its database with the form key
// every replica derives from it (see package pgtickets), so that a link
// or a page from one replica works on every other.
func newConsentSites(ctx context.Context, store tokenstore.Store) (*consentSites, error) {
	if ps, ok := store.(*postgres.Store); ok {
		ctx, cancel := context.WithTimeout(ctx, storeOpenTimeout)
		defer cancel()
		pt, err := pgtickets.Open(ctx, ps.Pool(), pgtickets.Options{})
		if err != nil {
			return nil, fmt.Errorf("consent tickets: %w", err)
		}
		return &consentSites{tickets: pt, formKey: pt.FormKey()}, nil
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &consentSites{tickets: consent.NewMemoryTickets(consent.TicketLimits{}), formKey: key}, nil
}

// build returns the consent site for cfg, or nil when there is no HTTP
// listener (users are then told to ask for `oauthbridge authorize`).
func (cs *consentSites) build(cfg *config.Config, providers map[string]*provider.Provider, b *broker.Broker, log *zap.Logger) (*consent.Service, error) {
	if cfg.Listen.HTTP == "" || cfg.PublicURL == "" || len(providers) == 0 {
		return nil, nil
	}
	ps := make(map[string]*consent.Provider, len(providers))
	for name, p := range providers {
		ps[name] = consent.FromProvider(name, p, cfg.Providers[name])
	}
	site, err := consent.New(consent.Config{
		PublicURL: cfg.PublicURL,
		Providers: ps,
		Accounts:  consent.AccountsFrom(cfg),
		Broker:    b,
		Tickets:   cs.tickets,
		FormKey:   cs.formKey,
		// Off loopback unless the file says otherwise (config.GeneratedPasswordRequired).
		RequireGeneratedPassword: cfg.GeneratedPasswordRequired(),
		Log:                      log,
	})
	if err != nil {
		return nil, err
	}
	cs.mu.Lock()
	cs.sites = append(cs.sites, site)
	cs.mu.Unlock()
	return site, nil
}

// Close stops every site's pollers.
func (cs *consentSites) Close() error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var errs []error
	for _, s := range cs.sites {
		errs = append(errs, s.Close())
	}
	cs.sites = nil
	return errors.Join(errs...)
}

// mountConsent serves the current generation's consent site at "/",
// including the OAuth callback (which also tells a user of the terminal
// command to paste its address).
func (d *daemon) mountConsent(mux *http.ServeMux) {
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := d.current()
		if g == nil || g.site == nil {
			http.NotFound(w, r)
			return
		}
		g.site.ServeHTTP(w, r)
	}))
}

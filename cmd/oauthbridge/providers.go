package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/internal/provider"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
	"github.com/oauthbridge/oauthbridge/tokenstore/postgres"
)

// callbackPath is where the authorization code flow redirects to, below
// public_url.
const callbackPath = "/oauth/callback"

// redirectURL is the OAuth redirect URI registered at the providers.
func redirectURL(cfg *config.Config) string {
	if cfg.PublicURL == "" {
		return ""
	}
	return strings.TrimSuffix(cfg.PublicURL, "/") + callbackPath
}

// buildProviders turns every configured provider into a runtime one.
func buildProviders(ctx context.Context, cfg *config.Config, log *zap.Logger) (map[string]*provider.Provider, error) {
	out := map[string]*provider.Provider{}
	for name, pc := range cfg.Providers {
		p, err := provider.New(ctx, name, pc, redirectURL(cfg), log)
		if err != nil {
			return nil, fmt.Errorf("providers.%s: %w", name, err)
		}
		out[name] = p
	}
	return out, nil
}

// storeOpenTimeout bounds opening a shared store: connecting, and the
// schema migration, which may wait for a replica migrating at the same
// moment.
const storeOpenTimeout = time.Minute

// openStore opens the configured token store. Errors never hold the DSN:
// it may carry the database password.
func openStore(cfg *config.Config) (tokenstore.Store, error) {
	switch cfg.Store.Driver {
	case "file":
		s, err := filestore.Open(cfg.Store.Path)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return s, nil
	case "postgres":
		ctx, cancel := context.WithTimeout(context.Background(), storeOpenTimeout)
		defer cancel()
		s, err := postgres.Open(ctx, cfg.Store.DSN.Value())
		if err != nil {
			return nil, fmt.Errorf("store (postgres): %w", err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("store.driver: %q is not available in this build (use file or postgres)", cfg.Store.Driver)
	}
}

package main

import (
	"context"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/internal/provider"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
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

// openStore opens the configured token store.
func openStore(cfg *config.Config) (tokenstore.Store, error) {
	switch cfg.Store.Driver {
	case "file":
		s, err := filestore.Open(cfg.Store.Path)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("store.driver: %q is not available in this build (use file)", cfg.Store.Driver)
	}
}

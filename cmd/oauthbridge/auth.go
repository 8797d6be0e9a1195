package main

import (
	"context"
	"io"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/internal/provider"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
)

// buildAuth assembles the login path: token store, providers, broker and
// the login service that every front end calls. The returned Closer
// releases the store.
func buildAuth(ctx context.Context, cfg *config.Config, log *zap.Logger) (login.Authenticator, io.Closer, error) {
	store, err := openStore(cfg)
	if err != nil {
		return nil, nil, err
	}
	providers, err := buildProviders(ctx, cfg, log)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	b := broker.New(store, brokerProviders(providers), log)
	svc, err := login.NewService(login.ServiceConfig{
		Rules:  loginRules(cfg),
		Routes: loginRoutes(providers),
		Store:  store,
		Broker: b,
		Log:    log,
	})
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return svc, store, nil
}

func brokerProviders(ps map[string]*provider.Provider) map[string]*broker.Provider {
	out := map[string]*broker.Provider{}
	for name, p := range ps {
		out[name] = &broker.Provider{Name: name, OAuth2: p.OAuth2, HTTPClient: p.HTTPClient}
	}
	return out
}

func loginRules(cfg *config.Config) []login.Rule {
	var rules []login.Rule
	for _, a := range cfg.Accounts {
		rules = append(rules, login.Rule{Match: a.Match, Provider: a.Provider, UpstreamUser: a.UpstreamUser})
	}
	return rules
}

func loginRoutes(ps map[string]*provider.Provider) map[string]*login.Route {
	out := map[string]*login.Route{}
	for name, p := range ps {
		r := &login.Route{Provider: name, Mechanism: p.Mechanism, Endpoints: map[login.Protocol]upstream.Endpoint{}}
		for proto, ep := range p.Upstreams {
			r.Endpoints[login.Protocol(proto)] = ep
		}
		out[name] = r
	}
	return out
}

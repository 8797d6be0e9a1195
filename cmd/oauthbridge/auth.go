package main

import (
	"context"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/internal/provider"
	"github.com/oauthbridge/oauthbridge/proxy/consent"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
)

// buildAuth assembles the login path on store: providers, broker and the
// login service that every front end calls. refreshes, if not nil, hears
// of every token refresh. The caller owns the store: a configuration
// reload builds a new login path on the same store. audit, if not nil,
// receives the audit stream (log.audit); sites, if not nil, builds the
// consent site that failed logins point users to.
func buildAuth(ctx context.Context, cfg *config.Config, store tokenstore.Store, refreshes broker.Observer, sites *consentSites, audit, log *zap.Logger) (login.Authenticator, *consent.Service, error) {
	providers, err := buildProviders(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	b := broker.New(store, brokerProviders(providers), log)
	b.Observer = refreshes
	site, err := sites.build(cfg, providers, b, log)
	if err != nil {
		return nil, nil, err
	}
	sc := login.ServiceConfig{Rules: loginRules(cfg), Routes: loginRoutes(providers), Store: store, Broker: b, Log: log, Audit: audit}
	if site != nil {
		sc.Consent = site
	}
	svc, err := login.NewService(sc)
	if err != nil {
		return nil, nil, err
	}
	if site != nil {
		site.SetOnSaved(svc.Forget)
	}
	return svc, site, nil
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

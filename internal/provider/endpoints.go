package provider

import (
	"context"
	"fmt"
	"net/url"
	"slices"

	"golang.org/x/oauth2"
)

// Endpoints are a provider's OAuth 2.0 endpoint URLs; empty means the
// provider has none.
type Endpoints struct {
	AuthURL, TokenURL, DeviceURL, UserinfoURL, RevokeURL string
}

// placeholderScheme marks an endpoint URL that discovery has not filled in
// yet. Only the provider's lazyTransport understands it; any other HTTP
// client fails on it without touching the network.
const placeholderScheme = "oauthbridge-discovery"

// Endpoint names used in placeholders.
const (
	epAuth     = "auth"
	epToken    = "token"
	epDevice   = "device"
	epUserinfo = "userinfo"
	epRevoke   = "revoke"
)

// configured returns the endpoints from the file and the preset.
func (p *Provider) configured() Endpoints {
	return Endpoints{
		AuthURL: p.cfg.AuthURL, TokenURL: p.cfg.TokenURL, DeviceURL: p.cfg.DeviceURL,
		UserinfoURL: p.cfg.UserinfoURL, RevokeURL: p.cfg.RevokeURL,
	}
}

// Endpoints returns the effective endpoints: configured ones first, then
// discovered ones, running discovery if it is needed and not cached.
func (p *Provider) Endpoints(ctx context.Context) (Endpoints, error) {
	eps := p.configured()
	if p.disc == nil {
		return eps, nil
	}
	doc, err := p.disc.get(ctx)
	if err != nil {
		return Endpoints{}, fmt.Errorf("provider %s: %w", p.Name, err)
	}
	return merge(eps, doc), nil
}

// merge fills the endpoints the configuration left empty from doc.
func merge(eps Endpoints, doc *discoveryDoc) Endpoints {
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&eps.AuthURL, doc.AuthorizationEndpoint)
	fill(&eps.TokenURL, doc.TokenEndpoint)
	fill(&eps.DeviceURL, doc.DeviceAuthorizationEndpoint)
	fill(&eps.UserinfoURL, doc.UserinfoEndpoint)
	fill(&eps.RevokeURL, doc.RevocationEndpoint)
	return eps
}

// staticEndpoints is the endpoint set for the long-lived OAuth2 config:
// configured or already discovered URLs, and placeholders for what
// discovery has yet to provide.
func (p *Provider) staticEndpoints() oauth2.Endpoint {
	eps := p.configured()
	var doc *discoveryDoc
	if p.disc != nil {
		if doc = p.disc.cached(); doc != nil {
			eps = merge(eps, doc)
		} else {
			eps = withPlaceholders(eps)
		}
	}
	return oauth2.Endpoint{AuthURL: eps.AuthURL, TokenURL: eps.TokenURL, DeviceAuthURL: eps.DeviceURL,
		AuthStyle: p.authStyle(doc)}
}

// authStyle chooses how the client authenticates at the token endpoint,
// once, instead of x/oauth2's auto-detection (which sends every failing
// request twice, doubling the load on an IdP that is refusing refreshes):
// public clients and the presets' providers take the credentials in the
// form body; otherwise what discovery advertises, else HTTP Basic, which
// RFC 6749 section 2.3.1 obliges every server to support.
func (p *Provider) authStyle(doc *discoveryDoc) oauth2.AuthStyle {
	if p.cfg.ClientSecret == "" || p.cfg.Preset != "" {
		return oauth2.AuthStyleInParams
	}
	if doc != nil && len(doc.TokenAuthMethods) > 0 &&
		!slices.Contains(doc.TokenAuthMethods, "client_secret_basic") &&
		slices.Contains(doc.TokenAuthMethods, "client_secret_post") {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

func withPlaceholders(eps Endpoints) Endpoints {
	ph := func(dst *string, name string) {
		if *dst == "" {
			*dst = placeholderScheme + ":///" + name
		}
	}
	ph(&eps.AuthURL, epAuth)
	ph(&eps.TokenURL, epToken)
	ph(&eps.DeviceURL, epDevice)
	ph(&eps.UserinfoURL, epUserinfo)
	ph(&eps.RevokeURL, epRevoke)
	return eps
}

// realURL turns a placeholder into the discovered endpoint.
func (p *Provider) realURL(ctx context.Context, u *url.URL) (*url.URL, error) {
	eps, err := p.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	var raw string
	switch u.Path {
	case "/" + epAuth:
		raw = eps.AuthURL
	case "/" + epToken:
		raw = eps.TokenURL
	case "/" + epDevice:
		raw = eps.DeviceURL
	case "/" + epUserinfo:
		raw = eps.UserinfoURL
	case "/" + epRevoke:
		raw = eps.RevokeURL
	}
	if raw == "" {
		return nil, fmt.Errorf("provider %s: the IdP has no %s endpoint", p.Name, u.Path[1:])
	}
	return url.Parse(raw)
}

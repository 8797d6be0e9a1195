package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// StartupDiscoveryTimeout bounds the discovery attempt made by New, so an
// unreachable IdP delays start by at most this long.
var StartupDiscoveryTimeout = 5 * time.Second

// Provider is one identity provider ready for use.
type Provider struct {
	// Name is the provider's key in the configuration.
	Name string
	// Mechanism is the upstream SASL mechanism: XOAUTH2 or OAUTHBEARER.
	Mechanism string
	// Upstreams are the mail servers by protocol ("imap", "pop3", "smtp");
	// a protocol without a server is absent.
	Upstreams map[string]upstream.Endpoint
	// HTTPClient talks to the IdP: timeouts, ca_file trusted, and
	// discovery placeholders resolved on use. Pass it to x/oauth2 through
	// the context (oauth2.HTTPClient).
	HTTPClient *http.Client
	// OAuth2 is the long-lived configuration for refreshing tokens. Its
	// endpoint URLs may be discovery placeholders, which only HTTPClient
	// understands; use Resolve for URLs to show or to call directly.
	OAuth2 *oauth2.Config
	// DeviceFlowForMail is false when the IdP's device flow cannot grant
	// the mail scopes (Google), so the authorize command must not use it.
	DeviceFlowForMail bool

	cfg  config.Provider
	disc *discovery
	log  *zap.Logger
}

// New builds the provider called name from its (validated, defaulted)
// configuration. redirectURL is the OAuth redirect URI for the
// authorization code flow (may be empty). When the provider has an issuer,
// New tries discovery once within StartupDiscoveryTimeout; failure is
// logged and retried later, not returned.
func New(ctx context.Context, name string, cfg *config.Provider, redirectURL string, log *zap.Logger) (*Provider, error) {
	if log == nil {
		log = zap.NewNop()
	}
	roots, err := rootsFor(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("provider %s: %w", name, err)
	}
	p := &Provider{
		Name:              name,
		Mechanism:         cfg.Mechanism,
		Upstreams:         upstreams(cfg, roots),
		DeviceFlowForMail: deviceFlowForMail(cfg.Preset),
		cfg:               *cfg,
		log:               log.With(zap.String("provider", name)),
	}
	base := newHTTPClient(roots)
	if cfg.Issuer != "" {
		p.disc = newDiscovery(cfg.Issuer, base)
	}
	p.HTTPClient = &http.Client{Timeout: base.Timeout, Transport: &lazyTransport{p: p, next: base.Transport}}
	p.warmUp(ctx)
	p.OAuth2 = p.oauth2Config(redirectURL, p.staticEndpoints())
	return p, nil
}

// warmUp tries discovery once so the first login need not wait for it.
func (p *Provider) warmUp(ctx context.Context) {
	if p.disc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, StartupDiscoveryTimeout)
	defer cancel()
	if _, err := p.disc.get(ctx); err != nil {
		p.log.Warn("OIDC discovery failed; will retry when the provider is needed", zap.Error(err))
	}
}

func deviceFlowForMail(preset string) bool {
	pre, ok := config.LookupPreset(preset, "")
	return !ok || pre.DeviceFlowForMail
}

// rootsFor returns nil (system roots) or the system roots plus caFile.
func rootsFor(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil
	}
	return upstream.RootsWithCA(caFile)
}

func upstreams(cfg *config.Provider, roots *x509.CertPool) map[string]upstream.Endpoint {
	m := map[string]upstream.Endpoint{}
	for proto, u := range map[string]*config.Upstream{"imap": cfg.IMAP, "pop3": cfg.POP3, "smtp": cfg.SMTP} {
		if !u.Enabled() {
			continue
		}
		ep := upstream.Endpoint{Addr: u.Addr, TLS: upstream.TLSMode(u.TLS)}
		if roots != nil {
			ep.TLSConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		}
		m[proto] = ep
	}
	return m
}

// oauth2Config builds the client configuration around endpoints ep.
func (p *Provider) oauth2Config(redirectURL string, ep oauth2.Endpoint) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret.Value(),
		RedirectURL:  redirectURL,
		Scopes:       append([]string(nil), p.cfg.Scopes...),
		Endpoint:     ep,
	}
}

// Resolve returns a copy of the OAuth2 configuration with real endpoint
// URLs, running discovery now if it has not succeeded yet. redirectURL
// replaces the configured one when not empty.
func (p *Provider) Resolve(ctx context.Context, redirectURL string) (*oauth2.Config, Endpoints, error) {
	eps, err := p.Endpoints(ctx)
	if err != nil {
		return nil, Endpoints{}, err
	}
	if redirectURL == "" {
		redirectURL = p.OAuth2.RedirectURL
	}
	c := p.oauth2Config(redirectURL, oauth2.Endpoint{
		AuthURL: eps.AuthURL, TokenURL: eps.TokenURL, DeviceAuthURL: eps.DeviceURL,
		AuthStyle: p.OAuth2.Endpoint.AuthStyle,
	})
	return c, eps, nil
}

// Context returns ctx carrying the provider's HTTP client for x/oauth2.
func (p *Provider) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, p.HTTPClient)
}

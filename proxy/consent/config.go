package consent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// Flow names a way of obtaining consent.
type Flow string

// The flows the page can offer.
const (
	// FlowCode is the authorization code grant with PKCE, redirecting to
	// PublicURL + CallbackPath.
	FlowCode Flow = "code"
	// FlowDevice is the device authorization grant.
	FlowDevice Flow = "device"
	// FlowPaste is the authorization code grant redirecting to a loopback
	// address, with the final address pasted back by the user.
	FlowPaste Flow = "paste"
)

// CallbackPath is where FlowCode's redirect URI points, under PublicURL.
const CallbackPath = "/oauth/callback"

// DefaultTicketTTL is how long a consent link stays valid.
const DefaultTicketTTL = 15 * time.Minute

// Endpoints is a provider's client configuration with real URLs.
type Endpoints struct {
	// OAuth2 carries client id, secret, scopes, endpoints (DeviceAuthURL
	// empty when the provider has no device flow) and the redirect URL.
	OAuth2 *oauth2.Config
	// UserinfoURL may be empty (then the ID token, or discovery, names the
	// user).
	UserinfoURL string
}

// Provider is what the consent site needs to know about one identity
// provider.
type Provider struct {
	// Label is the provider's name as users know it ("Microsoft").
	Label string
	// Resolve returns the client configuration with redirectURL ("" for
	// the device flow). It is called for each consent, so a provider whose
	// discovery failed at start works once it is reachable.
	Resolve func(ctx context.Context, redirectURL string) (Endpoints, error)
	// Issuer and JWKSURL say how ID tokens are verified (see
	// oauthflow.IdentityConfig); both empty means ID tokens are ignored and
	// the userinfo endpoint names the user.
	Issuer, JWKSURL string
	// HTTPClient talks to the provider; it must have a timeout. nil means a
	// client with a 30 s timeout.
	HTTPClient *http.Client
	// Flows lists the flows offered, in the page's order. Empty means
	// code, device (when the provider has a device endpoint), paste.
	Flows []Flow
	// PasteRedirectURL is the loopback redirect URI registered for
	// paste-back; default "http://127.0.0.1".
	PasteRedirectURL string
	// AuthParams are extra authorization request parameters
	// (access_type=offline and prompt=consent for Google, for example).
	AuthParams map[string]string
}

// StaticEndpoints makes a Resolve function from a fixed configuration
// (tests, providers without discovery).
func StaticEndpoints(oc *oauth2.Config, userinfoURL string) func(context.Context, string) (Endpoints, error) {
	return func(_ context.Context, redirectURL string) (Endpoints, error) {
		c := *oc
		c.Scopes = append([]string(nil), oc.Scopes...)
		c.RedirectURL = redirectURL
		return Endpoints{OAuth2: &c, UserinfoURL: userinfoURL}, nil
	}
}

// Account is a configured account, as the Accounts resolver reports it.
type Account struct {
	// Name is the canonical (lower-case) account name.
	Name string
	// Provider names the account's provider.
	Provider string
	// UpstreamUser is the user name presented upstream (default Name).
	UpstreamUser string
}

// Broker saves a new grant; tokenstore/broker.Broker implements it.
type Broker interface {
	SaveSealed(ctx context.Context, account, provider, upstreamUser string, kdf tokenstore.KDFParams, key []byte, tok *oauth2.Token) error
}

// Config assembles a Service.
type Config struct {
	// PublicURL is the site's base address as users' browsers reach it
	// (http://127.0.0.1:8025, https://mail-bridge.example.com).
	PublicURL string
	// Providers by configured name.
	Providers map[string]*Provider
	// Accounts maps what a user typed on the start page to an account.
	Accounts func(username string) (Account, bool)
	// Aliases lists, per account, further identities the provider may
	// report for it (compared without regard to case). The account's
	// upstream user is always accepted.
	Aliases map[string][]string
	// Broker stores grants.
	Broker Broker
	// Tickets holds open tickets; nil means an in-memory store with
	// default limits (a single process; replicas need a shared store).
	Tickets TicketStore
	// TicketTTL is how long a link stays valid; default DefaultTicketTTL.
	TicketTTL time.Duration
	// RequireGeneratedPassword makes every consent end with a generated
	// password (shown once) instead of the one typed at login.
	RequireGeneratedPassword bool
	// KDF returns parameters for new keys; nil means
	// tokenstore.DefaultKDF. Tests inject cheap ones.
	KDF func() tokenstore.KDFParams
	// OnSaved, if set, is called after a grant was saved (the login
	// service forgets the account's cached password check there).
	OnSaved func(account string)
	// FormKey, if set (at least 32 bytes), keys the forms' CSRF tokens, so
	// that Services built one after another (a configuration reload) or
	// side by side (replicas) accept each other's pages. nil means a
	// random key per Service.
	FormKey []byte
	// Log receives one line per consent event; nil discards.
	Log *zap.Logger
}

// check validates cfg and fills in defaults.
func (c *Config) check() (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(c.PublicURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("consent: public URL %q is not an absolute http(s) URL", c.PublicURL)
	}
	if c.Broker == nil || len(c.Providers) == 0 {
		return nil, errors.New("consent: a broker and at least one provider are required")
	}
	for name, p := range c.Providers {
		if p == nil || p.Resolve == nil {
			return nil, fmt.Errorf("consent: provider %q has no Resolve", name)
		}
		if p.Label == "" {
			p.Label = name
		}
	}
	if c.FormKey != nil && len(c.FormKey) < 32 {
		return nil, errors.New("consent: FormKey must be at least 32 bytes")
	}
	if c.TicketTTL <= 0 {
		c.TicketTTL = DefaultTicketTTL
	}
	if c.Tickets == nil {
		c.Tickets = NewMemoryTickets(TicketLimits{})
	}
	if c.KDF == nil {
		c.KDF = tokenstore.DefaultKDF
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	return u, nil
}

// flows returns the flows p offers given its resolved endpoints.
func (p *Provider) flows(eps Endpoints) []Flow {
	flows := p.Flows
	if len(flows) == 0 {
		flows = []Flow{FlowCode, FlowDevice, FlowPaste}
	}
	var out []Flow
	for _, f := range flows {
		if f == FlowDevice && eps.OAuth2.Endpoint.DeviceAuthURL == "" {
			continue
		}
		out = append(out, f)
	}
	return out
}

func (p *Provider) pasteRedirect() string {
	if p.PasteRedirectURL != "" {
		return p.PasteRedirectURL
	}
	return "http://127.0.0.1"
}

func (p *Provider) client() *http.Client {
	if p.HTTPClient != nil {
		return p.HTTPClient
	}
	return &http.Client{Timeout: 30 * time.Second}
}

package consent

import (
	"context"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/internal/provider"
	"github.com/oauthbridge/oauthbridge/proxy/consent/oauthflow"
)

// microsoftKeys is where Microsoft publishes the keys that sign ID tokens
// of every tenant. Its ID tokens name the user's tenant in iss, so the
// issuer is not compared; signature, audience and expiry still are.
const microsoftKeys = "https://login.microsoftonline.com/common/discovery/v2.0/keys"

// googleIssuer is Google's OpenID Connect issuer.
const googleIssuer = "https://accounts.google.com"

// FromProvider describes a configured runtime provider for the consent
// site: endpoints resolved through p (discovery retried on use), ID
// tokens verified with the issuer's keys (Microsoft's and Google's known
// ones for the presets), and the flows that fit it: Google's device flow
// cannot grant the mail scope, so it is not offered there.
func FromProvider(name string, p *provider.Provider, pc *config.Provider) *Provider {
	cp := &Provider{
		Label:      label(name, pc.Preset),
		HTTPClient: p.HTTPClient,
		Issuer:     pc.Issuer,
		Resolve: func(ctx context.Context, redirectURL string) (Endpoints, error) {
			oc, eps, err := p.Resolve(ctx, redirectURL)
			if err != nil {
				return Endpoints{}, err
			}
			oc.RedirectURL = redirectURL
			return Endpoints{OAuth2: oc, UserinfoURL: eps.UserinfoURL}, nil
		},
	}
	switch pc.Preset {
	case "microsoft365", "outlook":
		cp.JWKSURL = microsoftKeys
	case "google":
		cp.Issuer = googleIssuer
		cp.AuthParams = map[string]string{"access_type": "offline", "prompt": "consent"}
	}
	if !p.DeviceFlowForMail {
		cp.Flows = []Flow{FlowCode, FlowPaste}
	}
	return cp
}

// IdentityConfig returns how to verify who signed in at p, for callers
// outside the consent site (the authorize command) that share the check.
func (p *Provider) IdentityConfig(eps Endpoints) oauthflow.IdentityConfig {
	return oauthflow.IdentityConfig{Issuer: p.Issuer, JWKSURL: p.JWKSURL, UserinfoURL: eps.UserinfoURL,
		ClientID: eps.OAuth2.ClientID, HTTPClient: p.client()}
}

// AccountsFrom resolves typed addresses with the configuration's
// accounts rules.
func AccountsFrom(c *config.Config) func(string) (Account, bool) {
	return func(username string) (Account, bool) {
		account, upstream, a, ok := c.Match(username)
		if !ok {
			return Account{}, false
		}
		return Account{Name: account, Provider: a.Provider, UpstreamUser: upstream}, true
	}
}

func label(name, preset string) string {
	switch preset {
	case "microsoft365", "outlook":
		return "Microsoft"
	case "google":
		return "Google"
	}
	return name
}

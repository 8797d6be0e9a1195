package config

import (
	"slices"
	"strings"
)

// Preset is what oauthbridge knows about a big provider, so that a
// configuration needs little more than a client id. Every field may be
// overridden in the provider's configuration.
type Preset struct {
	// Name is the preset's name in the configuration.
	Name string
	// AuthURL, TokenURL, DeviceURL, UserinfoURL and RevokeURL are the
	// OAuth 2.0 endpoints (empty when the provider has none).
	AuthURL, TokenURL, DeviceURL, UserinfoURL, RevokeURL string
	// Scopes are requested at consent: the mail scopes, offline access
	// (refresh tokens) and the identity scopes used to check who consented.
	Scopes []string
	// IMAP, POP3 and SMTP are the provider's mail servers.
	IMAP, POP3, SMTP Upstream
	// NeedsSecret: the provider refuses token requests without a client
	// secret, even from installed applications.
	NeedsSecret bool
	// DeviceFlowForMail: the device authorization grant may be used with
	// the mail scopes. Google offers the device flow but not for Gmail.
	DeviceFlowForMail bool
	// DefaultTenant is the Microsoft tenant used when none is configured;
	// empty for providers without tenants.
	DefaultTenant string
}

// microsoftScopes are the Exchange Online scopes for IMAP, POP3 and SMTP
// AUTH, plus offline_access for a refresh token and the OpenID scopes for
// the ID token that names the user.
var microsoftScopes = []string{
	"offline_access",
	"https://outlook.office.com/IMAP.AccessAsUser.All",
	"https://outlook.office.com/POP.AccessAsUser.All",
	"https://outlook.office.com/SMTP.Send",
	"openid", "email", "profile",
}

func microsoftPreset(name, defaultTenant string) Preset {
	base := "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/"
	return Preset{
		Name:              name,
		AuthURL:           base + "authorize",
		TokenURL:          base + "token",
		DeviceURL:         base + "devicecode",
		Scopes:            microsoftScopes,
		IMAP:              Upstream{Addr: "outlook.office365.com:993", TLS: "implicit"},
		POP3:              Upstream{Addr: "outlook.office365.com:995", TLS: "implicit"},
		SMTP:              Upstream{Addr: "smtp.office365.com:587", TLS: "starttls"},
		DeviceFlowForMail: true,
		DefaultTenant:     defaultTenant,
	}
}

var presets = map[string]Preset{
	"microsoft365": microsoftPreset("microsoft365", "organizations"),
	"outlook":      microsoftPreset("outlook", "consumers"),
	"google": {
		Name:        "google",
		AuthURL:     "https://accounts.google.com/o/oauth2/v2/auth",
		TokenURL:    "https://oauth2.googleapis.com/token",
		DeviceURL:   "https://oauth2.googleapis.com/device/code",
		UserinfoURL: "https://openidconnect.googleapis.com/v1/userinfo",
		RevokeURL:   "https://oauth2.googleapis.com/revoke",
		Scopes:      []string{"https://mail.google.com/", "openid", "email"},
		IMAP:        Upstream{Addr: "imap.gmail.com:993", TLS: "implicit"},
		POP3:        Upstream{Addr: "pop.gmail.com:995", TLS: "implicit"},
		SMTP:        Upstream{Addr: "smtp.gmail.com:465", TLS: "implicit"},
		NeedsSecret: true,
	},
}

// LookupPreset returns the named preset with its endpoints filled in for
// tenant (the preset's default tenant when empty). The result is a copy.
func LookupPreset(name, tenant string) (Preset, bool) {
	p, ok := presets[name]
	if !ok {
		return Preset{}, false
	}
	if tenant == "" {
		tenant = p.DefaultTenant
	}
	for _, u := range []*string{&p.AuthURL, &p.TokenURL, &p.DeviceURL} {
		*u = strings.ReplaceAll(*u, "{tenant}", tenant)
	}
	p.Scopes = slices.Clone(p.Scopes)
	return p, true
}

// PresetNames lists the known presets, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

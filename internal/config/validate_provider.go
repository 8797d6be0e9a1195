package config

import (
	"os"
	"regexp"
	"strings"
)

var (
	providerNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	tenantRe       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*$`)
)

func (v *validator) provider(name string, p *Provider) {
	key := "providers." + name
	if !providerNameRe.MatchString(name) {
		v.fail(key, "a provider name may contain letters, digits, '.', '_' and '-' only")
	}
	if p == nil {
		v.fail(key, "empty provider: set preset and client_id, or issuer and client_id")
		return
	}
	pre, known := presets[p.Preset]
	switch {
	case p.Preset != "" && !known:
		v.fail(key+".preset", "unknown preset %q (known: %s)", p.Preset, strings.Join(PresetNames(), ", "))
	case p.Preset == "":
		v.customEndpoints(key, p)
	}
	v.tenant(key, p, pre)
	if p.ClientID == "" {
		v.fail(key+".client_id", "required: the application (client) id registered at the provider")
	}
	if known && pre.NeedsSecret && p.ClientSecret == "" {
		v.fail(key+".client_secret", "required by the %s preset (Google issues one even to desktop apps)", p.Preset)
	}
	v.endpointURLs(key, p)
	v.mechanism(key, p)
	v.caFile(key, p)
	v.upstreams(key, p)
}

// customEndpoints: without a preset the endpoints come from discovery or
// from the file.
func (v *validator) customEndpoints(key string, p *Provider) {
	if p.Issuer != "" {
		return
	}
	if p.TokenURL == "" || (p.AuthURL == "" && p.DeviceURL == "") {
		v.fail(key, "needs a preset, an issuer (OIDC discovery), or explicit token_url and auth_url (or device_url)")
	}
}

func (v *validator) tenant(key string, p *Provider, pre Preset) {
	if p.Tenant == "" {
		return
	}
	if pre.DefaultTenant == "" {
		v.fail(key+".tenant", "only used by the microsoft365 and outlook presets")
		return
	}
	if !tenantRe.MatchString(p.Tenant) {
		v.fail(key+".tenant", "must be organizations, consumers, common, a tenant id or a domain (got %q)", p.Tenant)
	}
}

func (v *validator) endpointURLs(key string, p *Provider) {
	for _, f := range []struct{ name, val string }{
		{"issuer", p.Issuer}, {"auth_url", p.AuthURL}, {"token_url", p.TokenURL},
		{"device_url", p.DeviceURL}, {"userinfo_url", p.UserinfoURL}, {"revoke_url", p.RevokeURL},
	} {
		if f.val == "" {
			continue
		}
		if err := checkURL(f.val, true); err != nil {
			v.fail(key+"."+f.name, "%v", err)
		}
	}
}

func (v *validator) mechanism(key string, p *Provider) {
	p.Mechanism = strings.ToUpper(p.Mechanism)
	if p.Mechanism != "XOAUTH2" && p.Mechanism != "OAUTHBEARER" {
		v.fail(key+".mechanism", "must be XOAUTH2 or OAUTHBEARER (got %q)", p.Mechanism)
	}
}

func (v *validator) caFile(key string, p *Provider) {
	if p.CAFile == "" {
		return
	}
	if _, err := os.Stat(p.CAFile); err != nil {
		v.fail(key+".ca_file", "%v", err)
	}
}

// upstreams checks the mail servers; one with an empty addr counts as
// absent, so generated files may write all three keys.
func (v *validator) upstreams(key string, p *Provider) {
	if !p.IMAP.Enabled() && !p.POP3.Enabled() && !p.SMTP.Enabled() {
		v.fail(key, "no mail server: set at least one of imap, pop3, smtp")
	}
	for _, u := range []struct {
		name string
		up   *Upstream
	}{{"imap", p.IMAP}, {"pop3", p.POP3}, {"smtp", p.SMTP}} {
		if u.up.Enabled() {
			v.upstream(key+"."+u.name, u.up)
		}
	}
}

func (v *validator) upstream(key string, u *Upstream) {
	host, _, err := splitAddr(u.Addr)
	if err != nil {
		v.fail(key+".addr", "%v (want host:port, e.g. imap.example.com:993)", err)
	}
	switch u.TLS {
	case "implicit", "starttls":
	case "plain":
		if err == nil && !isLoopback(host) {
			v.fail(key+".tls", "\"plain\" is allowed only for loopback addresses (tests); use implicit or starttls")
		}
	default:
		v.fail(key+".tls", "must be \"implicit\" or \"starttls\" (got %q)", u.TLS)
	}
}

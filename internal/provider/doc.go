// Package provider turns a configured identity provider (config.Provider)
// into what the running proxy needs: an *oauth2.Config with the provider's
// endpoints, an *http.Client for talking to it, the upstream mail servers
// per protocol with their TLS settings, and the upstream SASL mechanism.
//
// Endpoints come from, in order of precedence, the configuration file,
// the preset (already merged by package config), and OpenID Connect
// Discovery 1.0 (issuer + /.well-known/openid-configuration). Discovery
// runs with a timeout and its result is cached; when the provider cannot
// be reached at start, `serve` still starts: the endpoints that depend on
// discovery are placeholders that the provider's HTTP client resolves on
// first use, retrying discovery at most every RetryInterval. That keeps an
// IdP outage at boot from turning into a mail outage for accounts whose
// access tokens are still cached.
//
// Invariants: every HTTP request has a timeout; the provider's ca_file is
// trusted in addition to (never instead of) the system roots, for the IdP
// and the mail servers alike; certificates are always verified; no token
// or secret appears in an error text.
package provider

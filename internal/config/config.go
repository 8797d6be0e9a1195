package config

import (
	"slices"
	"time"
)

// Config is the whole configuration file.
type Config struct {
	// StateDir holds the token store, the self-signed certificate and other
	// state. Default: the user's state directory + /oauthbridge.
	StateDir string `yaml:"state_dir"`
	// Listen maps listener names (imap, imaps, pop3, pop3s, smtp, smtps,
	// http) to addresses. A missing or empty entry disables that listener.
	Listen Listen `yaml:"listen"`
	// PublicURL is the base of links shown to users (consent page).
	PublicURL string `yaml:"public_url"`
	// TLS is the certificate for the proxy's own listeners.
	TLS TLS `yaml:"tls"`
	// Store selects the token store backend.
	Store Store `yaml:"store"`
	// Providers are the identity providers and their mail servers, by name.
	Providers map[string]*Provider `yaml:"providers"`
	// Accounts map login names to providers, first match wins.
	Accounts []*Account `yaml:"accounts"`
	// Limits bound what a client may do before login.
	Limits Limits `yaml:"limits"`
	// Log configures logging.
	Log Log `yaml:"log"`
	// Admin protects the admin status page.
	Admin Admin `yaml:"admin"`
	// ShutdownGrace is how long SIGTERM or SIGINT waits for open sessions
	// to end before closing them. Default 10s.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`

	// file and keys locate each key in the loaded file, for error texts.
	file string
	keys keyIndex
}

// Listen holds listener addresses.
type Listen struct {
	IMAP  string `yaml:"imap"`
	IMAPS string `yaml:"imaps"`
	POP3  string `yaml:"pop3"`
	POP3S string `yaml:"pop3s"`
	SMTP  string `yaml:"smtp"`
	SMTPS string `yaml:"smtps"`
	HTTP  string `yaml:"http"`
}

// TLS names a certificate and key (PEM). Both empty: a self-signed
// certificate is generated once in the state directory and kept.
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Store selects and configures the token store.
type Store struct {
	// Driver is "file" (default) or "postgres".
	Driver string `yaml:"driver"`
	// Path is the file store's file; default state_dir/tokens.json.
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string (postgres driver); like a
	// client secret it may be "env:NAME" or "file:/path".
	DSN Secret `yaml:"dsn"`
}

// Provider is one OAuth identity provider with its mail servers.
type Provider struct {
	// Preset is "microsoft365", "outlook", "google" or empty (custom).
	Preset string `yaml:"preset"`
	// Tenant is the Microsoft tenant (organizations, consumers, common, or
	// a tenant id); microsoft365 preset only.
	Tenant string `yaml:"tenant"`
	// Issuer is an OIDC issuer URL; endpoints are discovered from it.
	Issuer string `yaml:"issuer"`
	// AuthURL, TokenURL, DeviceURL, UserinfoURL, RevokeURL are explicit
	// endpoints; they override presets and discovery.
	AuthURL     string `yaml:"auth_url"`
	TokenURL    string `yaml:"token_url"`
	DeviceURL   string `yaml:"device_url"`
	UserinfoURL string `yaml:"userinfo_url"`
	RevokeURL   string `yaml:"revoke_url"`
	// ClientID and ClientSecret identify oauthbridge at the provider.
	// ClientSecret may be "env:NAME" or "file:/path" instead of a value.
	ClientID     string `yaml:"client_id"`
	ClientSecret Secret `yaml:"client_secret"`
	// Scopes requested at consent; presets supply the mail scopes.
	Scopes []string `yaml:"scopes"`
	// IMAP, POP3 and SMTP are the upstream mail servers.
	IMAP *Upstream `yaml:"imap"`
	POP3 *Upstream `yaml:"pop3"`
	SMTP *Upstream `yaml:"smtp"`
	// CAFile adds a CA (PEM) for upstream TLS and the IdP's HTTPS.
	CAFile string `yaml:"ca_file"`
	// Mechanism is the upstream SASL mechanism: XOAUTH2 (default) or
	// OAUTHBEARER.
	Mechanism string `yaml:"mechanism"`
}

// Upstream is one upstream server.
type Upstream struct {
	// Addr is host:port.
	Addr string `yaml:"addr"`
	// TLS is implicit, starttls, or plain (loopback only, for tests).
	TLS string `yaml:"tls"`
}

// Enabled reports whether u names a server: a missing entry or an empty
// addr means the provider has no server for that protocol.
func (u *Upstream) Enabled() bool { return u != nil && u.Addr != "" }

// Account maps login names to a provider.
type Account struct {
	// Match is an exact address (alice@contoso.com) or a domain rule
	// (*@contoso.com), compared case-insensitively.
	Match string `yaml:"match"`
	// Provider names an entry of Providers.
	Provider string `yaml:"provider"`
	// UpstreamUser is the user name upstream when it differs from the
	// login name (exact matches only).
	UpstreamUser string `yaml:"upstream_user"`
}

// Limits bound pre-login behaviour.
type Limits struct {
	// LoginTimeout is how long a client may take from connect to login.
	LoginTimeout time.Duration `yaml:"login_timeout"`
	// MaxLineBytes bounds one command line before login.
	MaxLineBytes int `yaml:"max_line_bytes"`
	// MaxLiteralBytes bounds one IMAP literal before login.
	MaxLiteralBytes int `yaml:"max_literal_bytes"`
	// MaxCommands bounds the commands accepted before login.
	MaxCommands int `yaml:"max_commands"`
	// MaxConnections bounds open client connections in total (0: default).
	MaxConnections int `yaml:"max_connections"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is console or json.
	Format string `yaml:"format"`
}

// NamedAddr is one configured listener.
type NamedAddr struct {
	// Name is the listener's key: imap, imaps, pop3, pop3s, smtp, smtps or
	// http.
	Name string
	// Addr is its address.
	Addr string
}

// All returns the enabled listeners in a fixed order.
func (l Listen) All() []NamedAddr {
	var out []NamedAddr
	for _, n := range []NamedAddr{
		{"imap", l.IMAP}, {"imaps", l.IMAPS}, {"pop3", l.POP3}, {"pop3s", l.POP3S},
		{"smtp", l.SMTP}, {"smtps", l.SMTPS}, {"http", l.HTTP},
	} {
		if n.Addr != "" {
			out = append(out, n)
		}
	}
	return out
}

// sortedKeys returns m's keys in order, so errors and listings are stable.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

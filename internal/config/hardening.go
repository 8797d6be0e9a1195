package config

import (
	"slices"
	"strings"
)

// Defaults for the limits that keep one client from taking the proxy's
// resources.
const (
	// DefaultMaxConnectionsPerSource leaves room for an office behind one
	// NAT address (a mail client opens up to about six connections) while
	// one misbehaving host cannot take all of max_connections.
	DefaultMaxConnectionsPerSource = 128
	// DefaultMaxPreLoginBytes is far above what a real client sends
	// before login (a TLS handshake and a few commands, a few KiB).
	DefaultMaxPreLoginBytes = 256 << 10
	// minPreLoginBytes leaves room for a TLS handshake with a long
	// certificate chain and a login with long names.
	minPreLoginBytes = 16 << 10
)

func (c *Config) applyHardeningDefaults(dir string) {
	if c.Limits.MaxConnectionsPerSource == 0 {
		c.Limits.MaxConnectionsPerSource = DefaultMaxConnectionsPerSource
	}
	if c.Limits.MaxPreLoginBytes == 0 {
		c.Limits.MaxPreLoginBytes = DefaultMaxPreLoginBytes
	}
	if a := c.Log.Audit; a != "stderr" && a != "stdout" {
		c.Log.Audit = relTo(dir, a)
	}
	c.inlineSecrets = c.findInlineSecrets()
}

// GeneratedPasswordRequired says whether consent must end with a generated
// password: require_generated_password when set, else whether any
// listener is reachable from other machines (there, a password typed into
// a mail client is more likely shared or weak, and the consent page more
// likely reached by someone else).
func (c *Config) GeneratedPasswordRequired() bool {
	if c.RequireGeneratedPassword != nil {
		return *c.RequireGeneratedPassword
	}
	for _, l := range c.Listen.All() {
		if host, _, err := splitAddr(l.Addr); err == nil && !isLoopback(host) {
			return true
		}
	}
	return false
}

// InlineSecrets lists the keys whose secret is written in the
// configuration file itself rather than taken from env: or file:, so the
// start-up check can refuse a configuration file others may read.
func (c *Config) InlineSecrets() []string {
	return slices.Clone(c.inlineSecrets)
}

// findInlineSecrets runs before env: and file: references are resolved.
func (c *Config) findInlineSecrets() []string {
	var keys []string
	note := func(key string, s Secret) {
		v := s.Value()
		if v != "" && !strings.HasPrefix(v, "env:") && !strings.HasPrefix(v, "file:") {
			keys = append(keys, key)
		}
	}
	for _, name := range sortedKeys(c.Providers) {
		if p := c.Providers[name]; p != nil {
			note("providers."+name+".client_secret", p.ClientSecret)
		}
	}
	note("store.dsn", c.Store.DSN)
	note("admin.password", c.Admin.Password)
	return keys
}

func (v *validator) hardening() {
	l := v.c.Limits
	if l.MaxConnectionsPerSource < 1 {
		v.fail("limits.max_connections_per_source", "must be at least 1 (got %d)", l.MaxConnectionsPerSource)
	}
	if l.MaxPreLoginBytes < minPreLoginBytes {
		v.fail("limits.max_prelogin_bytes", "must be at least %d (got %d)", minPreLoginBytes, l.MaxPreLoginBytes)
	}
	for _, na := range v.c.Listen.All() {
		if na.AllowPlaintextAuth && !slices.Contains(plaintextCapable, na.Name) {
			v.fail("listen."+na.Name+".allow_plaintext_auth",
				"only imap, pop3 and smtp take it: %s is TLS from the first byte or carries no mail password", na.Name)
		}
	}
}

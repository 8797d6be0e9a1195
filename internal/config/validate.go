package config

import (
	"errors"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Validate checks a complete configuration (defaults applied) and returns
// every problem found, joined; each is a *KeyError naming its key.
func (c *Config) Validate() error {
	var v validator
	v.c = c
	v.listeners()
	v.publicURL()
	v.tls()
	v.store()
	for _, name := range sortedKeys(c.Providers) {
		v.provider(name, c.Providers[name])
	}
	for i, a := range c.Accounts {
		v.account(i, a)
	}
	v.limits()
	v.log()
	v.ops()
	v.hardening()
	return errors.Join(v.errs...)
}

// validator collects problems so that one run reports all of them.
type validator struct {
	c    *Config
	errs []error
}

func (v *validator) fail(key, format string, args ...any) {
	v.errs = append(v.errs, v.c.keyErr(key, format, args...))
}

func (v *validator) listeners() {
	seen := map[string]string{}
	for _, l := range v.c.Listen.All() {
		key := "listen." + l.Name
		host, port, err := splitAddr(l.Addr)
		if err != nil {
			v.fail(key, "%v (want host:port, e.g. 127.0.0.1:1143)", err)
			continue
		}
		if port == 0 {
			continue // an ephemeral port never collides
		}
		norm := net.JoinHostPort(host, strconv.Itoa(port))
		if other, dup := seen[norm]; dup {
			v.fail(key, "address %s is already used by listen.%s", l.Addr, other)
		}
		seen[norm] = l.Name
	}
}

func (v *validator) publicURL() {
	if v.c.PublicURL == "" {
		return
	}
	if err := checkURL(v.c.PublicURL, false); err != nil {
		v.fail("public_url", "%v", err)
	}
}

func (v *validator) tls() {
	if (v.c.TLS.Cert == "") != (v.c.TLS.Key == "") {
		v.fail("tls", "cert and key must both be set, or both empty for a self-signed certificate")
	}
}

func (v *validator) store() {
	switch v.c.Store.Driver {
	case "file":
	case "postgres":
		if v.c.Store.DSN == "" {
			v.fail("store.dsn", "required by the postgres driver")
		}
	default:
		v.fail("store.driver", "must be \"file\" or \"postgres\" (got %q)", v.c.Store.Driver)
	}
}

func (v *validator) account(i int, a *Account) {
	key := "accounts[" + strconv.Itoa(i) + "]"
	if a == nil {
		v.fail(key, "empty entry")
		return
	}
	exact, err := checkMatch(a.Match)
	if err != nil {
		v.fail(key+".match", "%v", err)
	}
	switch {
	case a.Provider == "":
		v.fail(key+".provider", "required")
	case v.c.Providers[a.Provider] == nil:
		v.fail(key+".provider", "unknown provider %q (configured: %s)", a.Provider, strings.Join(sortedKeys(v.c.Providers), ", "))
	}
	if a.UpstreamUser != "" && err == nil && !exact {
		v.fail(key+".upstream_user", "only allowed with an exact address in match, not %q", a.Match)
	}
}

// checkMatch accepts an exact address or "*@domain" and reports which.
func checkMatch(m string) (exact bool, err error) {
	if m == "" {
		return false, errors.New("required: an address or *@domain")
	}
	if strings.ContainsAny(m, " \t\r\n\"") {
		return false, errors.New("must not contain spaces or quotes")
	}
	local, domain, ok := strings.Cut(m, "@")
	if !ok || domain == "" || local == "" || strings.Contains(domain, "@") {
		return false, errors.New("must be an address (alice@example.com) or *@domain")
	}
	if strings.Contains(domain, "*") || (strings.Contains(local, "*") && local != "*") {
		return false, errors.New("only a whole local part may be a wildcard, as in *@example.com")
	}
	return local != "*", nil
}

func (v *validator) limits() {
	l := v.c.Limits
	if l.LoginTimeout < 0 {
		v.fail("limits.login_timeout", "must be positive")
	}
	if l.MaxLineBytes < 512 {
		v.fail("limits.max_line_bytes", "must be at least 512 (got %d)", l.MaxLineBytes)
	}
	if l.MaxLiteralBytes < 256 {
		v.fail("limits.max_literal_bytes", "must be at least 256 (got %d)", l.MaxLiteralBytes)
	}
	if l.MaxCommands < 1 {
		v.fail("limits.max_commands", "must be at least 1 (got %d)", l.MaxCommands)
	}
	if l.MaxConnections < 1 {
		v.fail("limits.max_connections", "must be at least 1 (got %d)", l.MaxConnections)
	}
}

func (v *validator) log() {
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, v.c.Log.Level) {
		v.fail("log.level", "must be debug, info, warn or error (got %q)", v.c.Log.Level)
	}
	if v.c.Log.Format != "console" && v.c.Log.Format != "json" {
		v.fail("log.format", "must be \"console\" or \"json\" (got %q)", v.c.Log.Format)
	}
}

// splitAddr parses host:port with a numeric port.
func splitAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, errors.New("not a host:port address")
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, errors.New("port must be a number from 0 to 65535")
	}
	if strings.ContainsAny(host, " \t/") {
		return "", 0, errors.New("not a valid host")
	}
	return host, port, nil
}

// isLoopback reports whether host names this machine only.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkURL requires an absolute http(s) URL; with secure, plain http is
// allowed only to loopback (tokens and secrets travel over it).
func checkURL(raw string, secure bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return errors.New("must be an absolute http:// or https:// URL")
	}
	if secure && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return errors.New("must use https:// (plain http only to 127.0.0.1, ::1 or localhost)")
	}
	return nil
}

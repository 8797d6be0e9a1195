package config

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// Defaults for Limits, chosen so that real clients never hit them while a
// misbehaving one is cut off early.
const (
	DefaultLoginTimeout    = 60 * time.Second
	DefaultMaxLineBytes    = 8 * 1024
	DefaultMaxLiteralBytes = 8 * 1024
	DefaultMaxCommands     = 32
	DefaultMaxConnections  = 1024
)

// DefaultListen are the listeners of the built-in configuration: the
// usual ports plus 1000 (or 8025 for HTTP), on loopback only, so that a
// first start exposes nothing to the network and needs no privileges.
var DefaultListen = Listen{
	IMAP:  "127.0.0.1:1143",
	IMAPS: "127.0.0.1:1993",
	POP3:  "127.0.0.1:1110",
	POP3S: "127.0.0.1:1995",
	SMTP:  "127.0.0.1:1587",
	SMTPS: "127.0.0.1:1465",
	HTTP:  "127.0.0.1:8025",
}

// Default returns the built-in configuration used when there is no
// configuration file: loopback listeners, the state directory under the
// user's directories, a file store, and no providers yet.
func Default() *Config {
	c := &Config{}
	c.applyDefaults("")
	return c
}

// DefaultStateDir is where state lives when state_dir is not set:
// $XDG_STATE_HOME/oauthbridge when that is set, %ProgramData%\oauthbridge
// on Windows, otherwise the user's configuration directory + oauthbridge.
func DefaultStateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "oauthbridge")
	}
	if runtime.GOOS == "windows" {
		if d := os.Getenv("ProgramData"); d != "" {
			return filepath.Join(d, "oauthbridge")
		}
	}
	return DefaultConfigDir()
}

// DefaultConfigDir is the directory of the per-user configuration file
// (os.UserConfigDir() + oauthbridge), or ./oauthbridge when the user has
// no home directory.
func DefaultConfigDir() string {
	d, err := os.UserConfigDir()
	if err != nil {
		return "oauthbridge"
	}
	return filepath.Join(d, "oauthbridge")
}

// DefaultConfigPath is the per-user configuration file that `serve` reads
// when neither --config nor ./oauthbridge.yaml is given.
func DefaultConfigPath() string {
	return filepath.Join(DefaultConfigDir(), "oauthbridge.yaml")
}

// applyDefaults fills every unset field. Relative paths are taken relative
// to dir, the configuration file's directory (empty: the working
// directory), so a service does not depend on where it was started.
func (c *Config) applyDefaults(dir string) {
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir()
	}
	c.StateDir = relTo(dir, c.StateDir)
	if c.Listen == (Listen{}) {
		c.Listen = DefaultListen
	}
	if c.PublicURL == "" && c.Listen.HTTP != "" {
		c.PublicURL = publicURLFor(c.Listen.HTTP)
	}
	c.TLS.Cert, c.TLS.Key = relTo(dir, c.TLS.Cert), relTo(dir, c.TLS.Key)
	c.Store.applyDefaults(dir, c.StateDir)
	for _, p := range c.Providers {
		if p != nil {
			p.applyDefaults(dir)
		}
	}
	c.Limits.applyDefaults()
	c.Log.applyDefaults()
	c.applyOpsDefaults()
	c.applyHardeningDefaults(dir)
}

// publicURLFor turns the HTTP listener address into a URL a browser on the
// same machine can open (an unspecified host becomes 127.0.0.1).
func publicURLFor(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func relTo(dir, path string) string {
	if path == "" || dir == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

func (s *Store) applyDefaults(dir, stateDir string) {
	if s.Driver == "" {
		s.Driver = "file"
	}
	if s.Driver == "file" && s.Path == "" {
		s.Path = filepath.Join(stateDir, "tokens.json")
	}
	s.Path = relTo(dir, s.Path)
}

// applyDefaults merges the preset (if any) under the provider's own
// settings: whatever the file says wins.
func (p *Provider) applyDefaults(dir string) {
	p.CAFile = relTo(dir, p.CAFile)
	if p.Mechanism == "" {
		p.Mechanism = "XOAUTH2"
	}
	defer func() {
		for _, u := range []*Upstream{p.IMAP, p.POP3, p.SMTP} {
			if u != nil && u.TLS == "" {
				u.TLS = tlsForPort(u.Addr)
			}
		}
	}()
	pre, ok := LookupPreset(p.Preset, p.Tenant)
	if !ok {
		if len(p.Scopes) == 0 {
			p.Scopes = []string{"openid", "email", "offline_access"}
		}
		return
	}
	if p.Tenant == "" {
		p.Tenant = pre.DefaultTenant
	}
	fill(&p.AuthURL, pre.AuthURL)
	fill(&p.TokenURL, pre.TokenURL)
	fill(&p.DeviceURL, pre.DeviceURL)
	fill(&p.UserinfoURL, pre.UserinfoURL)
	fill(&p.RevokeURL, pre.RevokeURL)
	if len(p.Scopes) == 0 {
		p.Scopes = pre.Scopes
	}
	p.IMAP = fillUpstream(p.IMAP, pre.IMAP)
	p.POP3 = fillUpstream(p.POP3, pre.POP3)
	p.SMTP = fillUpstream(p.SMTP, pre.SMTP)
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

func fillUpstream(u *Upstream, preset Upstream) *Upstream {
	if u == nil {
		c := preset
		return &c
	}
	if u.Addr == "" {
		u.Addr = preset.Addr
		fill(&u.TLS, preset.TLS)
	}
	return u
}

// tlsForPort guesses the TLS mode of an upstream without one from its
// well-known port; other ports must say (validation refuses the empty
// mode).
func tlsForPort(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	switch port {
	case "993", "995", "465":
		return "implicit"
	case "143", "110", "587", "25":
		return "starttls"
	}
	return ""
}

func (l *Limits) applyDefaults() {
	if l.LoginTimeout == 0 {
		l.LoginTimeout = DefaultLoginTimeout
	}
	if l.MaxLineBytes == 0 {
		l.MaxLineBytes = DefaultMaxLineBytes
	}
	if l.MaxLiteralBytes == 0 {
		l.MaxLiteralBytes = DefaultMaxLiteralBytes
	}
	if l.MaxCommands == 0 {
		l.MaxCommands = DefaultMaxCommands
	}
	if l.MaxConnections == 0 {
		l.MaxConnections = DefaultMaxConnections
	}
}

func (l *Log) applyDefaults() {
	if l.Level == "" {
		l.Level = "info"
	}
	if l.Format == "" {
		l.Format = "console"
	}
}

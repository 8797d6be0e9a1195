package config

import "time"

// Admin configures who may open the admin status page.
type Admin struct {
	// Password, when set, lets the status page (/admin on the http
	// listener) be opened from other machines with HTTP basic
	// authentication as user "admin". Without it the page answers only
	// requests that come from loopback without a proxy in between. Like a
	// client secret it may be "env:NAME" or "file:/path".
	Password Secret `yaml:"password"`
}

// DefaultShutdownGrace is how long a stop waits for open sessions when
// shutdown_grace is not set.
const DefaultShutdownGrace = 10 * time.Second

// minAdminPassword is the shortest admin password accepted: the page is
// reachable from the network when a password is set.
const minAdminPassword = 12

func (c *Config) applyOpsDefaults() {
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
}

// resolveAdmin replaces an env: or file: reference in admin.password.
func (c *Config) resolveAdmin() error {
	v, err := c.Admin.Password.resolve()
	if err != nil {
		return c.keyErr("admin.password", "%s", err.Error())
	}
	c.Admin.Password = v
	return nil
}

func (v *validator) ops() {
	if v.c.ShutdownGrace < 0 {
		v.fail("shutdown_grace", "must not be negative (got %s)", v.c.ShutdownGrace)
	}
	if p := v.c.Admin.Password; p != "" && len(p.Value()) < minAdminPassword {
		v.fail("admin.password", "must have at least %d characters: with a password the status page is reachable from the network", minAdminPassword)
	}
}

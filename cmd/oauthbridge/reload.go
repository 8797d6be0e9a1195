package main

import (
	"context"
	"fmt"
	"os"
	"reflect"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/config"
)

// restartOnly are the settings a reload cannot change, because the
// listening sockets, the store or the logger are built from them once:
// a reload keeps their running values and says so.
var restartOnly = []struct {
	key string
	get func(*config.Config) any
	set func(dst, src *config.Config)
}{
	{"listen", func(c *config.Config) any { return c.Listen }, func(d, s *config.Config) { d.Listen = s.Listen }},
	{"state_dir", func(c *config.Config) any { return c.StateDir }, func(d, s *config.Config) { d.StateDir = s.StateDir }},
	{"store", func(c *config.Config) any { return c.Store }, func(d, s *config.Config) { d.Store = s.Store }},
	{"limits.max_connections", func(c *config.Config) any { return c.Limits.MaxConnections },
		func(d, s *config.Config) { d.Limits.MaxConnections = s.Limits.MaxConnections }},
	{"log", func(c *config.Config) any { return c.Log }, func(d, s *config.Config) { d.Log = s.Log }},
	{"admin", func(c *config.Config) any { return c.Admin }, func(d, s *config.Config) { d.Admin = s.Admin }},
	{"public_url", func(c *config.Config) any { return c.PublicURL }, func(d, s *config.Config) { d.PublicURL = s.PublicURL }},
}

// reload reads the configuration file again and, if it is valid and its
// login path builds, serves new connections with it. Open sessions keep
// running on what they started with. A bad file changes nothing: the
// error is logged and returned.
func (d *daemon) reload(ctx context.Context) error {
	err := d.tryReload(ctx)
	d.ops.metrics.Reloaded(err == nil)
	if err != nil {
		d.log.Error("configuration reload rejected; the running configuration stays", zap.String("config", d.path), zap.Error(err))
	}
	return err
}

func (d *daemon) tryReload(ctx context.Context) error {
	if d.path == "" {
		return fmt.Errorf("running on built-in defaults: there is no configuration file to reload")
	}
	cfg, err := config.Load(d.path)
	if err != nil {
		return err
	}
	old := d.current().cfg
	kept := keepRestartOnly(cfg, old)
	g, err := d.newGeneration(ctx, cfg)
	if err != nil {
		return err
	}
	d.install(g)
	if len(kept) > 0 {
		d.log.Warn("reload: these settings need a restart; their running values stay", zap.Strings("keys", kept))
	}
	d.log.Info("configuration reloaded", zap.String("config", d.path), zap.Int("providers", len(cfg.Providers)),
		zap.Int("accounts", len(cfg.Accounts)))
	return nil
}

// keepRestartOnly copies the running value of every restart-only
// setting into cfg and returns the keys that differed.
func keepRestartOnly(cfg, running *config.Config) []string {
	var kept []string
	for _, r := range restartOnly {
		if !reflect.DeepEqual(r.get(cfg), r.get(running)) {
			kept = append(kept, r.key)
			r.set(cfg, running)
		}
	}
	return kept
}

// reloadOnHangup reloads the configuration at every signal on hup until
// ctx ends.
func (d *daemon) reloadOnHangup(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			d.log.Info("SIGHUP: reloading the configuration", zap.String("config", d.path))
			d.reload(ctx)
		}
	}
}

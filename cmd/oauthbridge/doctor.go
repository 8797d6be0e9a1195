package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/internal/doctor"
	"github.com/oauthbridge/oauthbridge/internal/provider"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// netStepTimeout bounds each reachability check.
const netStepTimeout = 20 * time.Second

// doctorRun is one run of the doctor command.
type doctorRun struct {
	e         *env
	r         *doctor.Runner
	cfg       *config.Config
	store     tokenstore.Store
	providers map[string]*provider.Provider
}

func runDoctor(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfgPath := fs.String("config", "", "configuration `file` (default ./oauthbridge.yaml, then the per-user file)")
	pwStdin := fs.Bool("password-stdin", false, "read ACCOUNT's local password as one line from standard input")
	pos, err := parseInterspersed(fs, args)
	if err != nil || len(pos) > 1 {
		fmt.Fprintln(e.stderr, "usage: oauthbridge doctor [ACCOUNT] [--config FILE] [--password-stdin]")
		return 2
	}
	d := &doctorRun{e: e, r: &doctor.Runner{Out: e.stdout, Progress: e.stderr}}
	defer d.close()
	if d.general(ctx, *cfgPath) && len(pos) == 1 {
		d.account(ctx, pos[0], *pwStdin)
	}
	return d.summary()
}

// general checks the configuration, state, store, identity providers and
// mail servers; it reports whether the account check can follow.
func (d *doctorRun) general(ctx context.Context, flagPath string) bool {
	var path string
	if !d.r.Step(ctx, "configuration", netStepTimeout, func(context.Context) (string, error) {
		var err error
		d.cfg, path, err = loadConfig(flagPath)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s: %d providers, %d account rules", or(path, "(built-in defaults)"), len(d.cfg.Providers), len(d.cfg.Accounts)), nil
	}) {
		return false
	}
	d.r.Step(ctx, "state directory", netStepTimeout, func(context.Context) (string, error) {
		return doctor.StateDir(d.cfg.StateDir, "tokens.json", "key.pem")
	})
	storeOK := d.r.Step(ctx, "token store", netStepTimeout, d.openStore)
	d.checkProviders(ctx)
	return storeOK
}

func (d *doctorRun) openStore(ctx context.Context) (string, error) {
	s, err := openStore(d.cfg)
	if err != nil {
		return "", err
	}
	d.store = s
	recs, err := s.List(ctx)
	if err != nil {
		return "", fmt.Errorf("list: %w", err)
	}
	n := map[tokenstore.Status]int{}
	for _, r := range recs {
		n[r.Status]++
	}
	return fmt.Sprintf("%s, %d accounts: %d ok, %d need consent, %d revoked", d.cfg.Store.Driver, len(recs),
		n[tokenstore.StatusOK], n[tokenstore.StatusNeedsConsent], n[tokenstore.StatusRevoked]), nil
}

// checkProviders checks each provider's identity provider and mail
// servers.
func (d *doctorRun) checkProviders(ctx context.Context) {
	d.providers = map[string]*provider.Provider{}
	for _, name := range slices.Sorted(maps.Keys(d.cfg.Providers)) {
		var p *provider.Provider
		d.r.Step(ctx, "provider "+name+": identity provider", netStepTimeout, func(ctx context.Context) (string, error) {
			var err error
			if p, err = provider.New(ctx, name, d.cfg.Providers[name], redirectURL(d.cfg), zap.NewNop()); err != nil {
				return "", err
			}
			return doctor.IdP(ctx, p)
		})
		if p == nil {
			continue // not even built: its mail servers cannot be named
		}
		d.providers[name] = p
		for _, proto := range slices.Sorted(maps.Keys(p.Upstreams)) {
			ep := p.Upstreams[proto]
			d.r.Step(ctx, fmt.Sprintf("provider %s: %s server %s", name, proto, ep.Addr), netStepTimeout, func(ctx context.Context) (string, error) {
				return doctor.Upstream(ctx, proto, ep)
			})
		}
	}
}

// account checks one account with its local password.
func (d *doctorRun) account(ctx context.Context, name string, pwStdin bool) {
	account, _, rule, ok := d.cfg.Match(name)
	if !d.r.Step(ctx, "account "+login.Canonical(name)+": configured", netStepTimeout, func(context.Context) (string, error) {
		if !ok {
			return "", fmt.Errorf("no accounts entry matches %s: the proxy would refuse its logins", name)
		}
		return fmt.Sprintf("matches %q (provider %s)", rule.Match, rule.Provider), nil
	}) {
		return
	}
	pw, err := askPassword(d.e, pwStdin, "Local password of "+account+": ")
	if err != nil {
		d.r.Skipped("account "+account, err.Error())
		return
	}
	defer clear(pw)
	a := &doctor.Account{Store: d.store, Providers: d.providers, Log: zap.NewNop()}
	a.Check(ctx, d.r, account, pw)
}

func (d *doctorRun) summary() int {
	failed := d.r.Count(doctor.Fail)
	fmt.Fprintf(d.e.stdout, "\n%d passed, %d failed, %d warnings, %d skipped\n",
		d.r.Count(doctor.Pass), failed, d.r.Count(doctor.Warn), d.r.Count(doctor.Skip))
	if failed > 0 || d.r.Count(doctor.Skip) > 0 {
		return 1
	}
	return 0
}

func (d *doctorRun) close() {
	if d.store != nil {
		d.store.Close()
	}
}

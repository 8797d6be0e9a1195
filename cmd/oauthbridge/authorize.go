package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/internal/provider"
	"github.com/oauthbridge/oauthbridge/proxy/consent"
	"github.com/oauthbridge/oauthbridge/proxy/consent/oauthflow"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
)

// authorizeTimeout bounds the whole command, waiting for the user included.
var authorizeTimeout = 20 * time.Minute

// authorizeReq is one run of the authorize command.
type authorizeReq struct {
	e             *env
	in            *bufio.Reader
	cfg           *config.Config
	account       string
	upstreamUser  string
	providerName  string
	p             *provider.Provider
	flow          string
	passwordStdin bool
	log           *zap.Logger
	// nonce is the OpenID Connect nonce of the code flow's request, which
	// the ID token must carry; empty for the device flow.
	nonce string
}

func runAuthorize(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("authorize", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfgPath := fs.String("config", "", "configuration `file` (default ./oauthbridge.yaml, then the per-user file)")
	pwStdin := fs.Bool("password-stdin", false, "read the local password as one line from standard input (for scripts)")
	flow := fs.String("flow", "", "`flow` to use: device or paste (default: device where the provider offers it)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 || (*flow != "" && *flow != "device" && *flow != "paste") {
		fmt.Fprintln(e.stderr, "usage: oauthbridge authorize ACCOUNT [--config FILE] [--password-stdin] [--flow device|paste]")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, authorizeTimeout)
	defer cancel()
	req, err := newAuthorizeReq(ctx, e, *cfgPath, pos[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "oauthbridge authorize: %v\n", err)
		return 1
	}
	req.flow, req.passwordStdin = *flow, *pwStdin
	if err := req.run(ctx); err != nil {
		fmt.Fprintf(e.stderr, "oauthbridge authorize: %v\n", err)
		return 1
	}
	return 0
}

// newAuthorizeReq loads the configuration and finds the account's
// provider.
func newAuthorizeReq(ctx context.Context, e *env, cfgPath, name string) (*authorizeReq, error) {
	cfg, path, err := loadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, fmt.Errorf("no configuration file; run `oauthbridge serve` once for a starter file at %s, add a provider and an accounts entry", defaultStarterPath())
	}
	account, upstreamUser, a, ok := cfg.Match(name)
	if !ok {
		return nil, fmt.Errorf("%s matches no accounts: entry in %s", name, path)
	}
	log, err := newLogger("warn", "console", e.stderr)
	if err != nil {
		return nil, err
	}
	p, err := provider.New(ctx, a.Provider, cfg.Providers[a.Provider], redirectURL(cfg), log)
	if err != nil {
		return nil, err
	}
	return &authorizeReq{e: e, in: bufio.NewReader(e.stdin), cfg: cfg, account: account,
		upstreamUser: upstreamUser, providerName: a.Provider, p: p, log: log}, nil
}

// run obtains a token, checks whose it is, asks for the local password
// and seals the grant in the store.
func (r *authorizeReq) run(ctx context.Context) error {
	tok, err := r.obtain(ctx)
	if err != nil {
		return err
	}
	if tok.RefreshToken == "" {
		return errors.New("the provider issued no refresh token; the offline_access scope (or the provider's equivalent) is needed")
	}
	if err := r.checkIdentity(ctx, tok); err != nil {
		return err
	}
	password, err := r.password()
	if err != nil {
		return err
	}
	defer clear(password)
	if err := r.save(ctx, password, tok); err != nil {
		return err
	}
	r.say("\nDone: %s is authorized with %s.", r.account, r.providerName)
	r.say("Log in from your mail client as %s with the password you just chose.", r.account)
	return nil
}

// obtain runs the device flow where it can, else the authorization code
// flow with the redirect pasted back.
func (r *authorizeReq) obtain(ctx context.Context) (*oauth2.Token, error) {
	eps, err := r.p.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	useDevice := eps.DeviceURL != "" && r.p.DeviceFlowForMail
	switch r.flow {
	case "device":
		if eps.DeviceURL == "" {
			return nil, fmt.Errorf("provider %s offers no device authorization endpoint; use --flow paste", r.providerName)
		}
		useDevice = true
	case "paste":
		useDevice = false
	}
	if useDevice {
		return r.deviceFlow(ctx)
	}
	return r.codeFlow(ctx)
}

// checkIdentity refuses a token granted by someone else than the account
// (a user who signed in to the wrong account in the browser). It asks the
// same way the consent site does, so an ID token counts only when its
// signature verifies. When the provider says nothing checkable at all, the
// user is told and the grant kept: the command is run by the account's
// owner, and such providers could otherwise never be authorized here.
func (r *authorizeReq) checkIdentity(ctx context.Context, tok *oauth2.Token) error {
	email, verifiable, err := r.identity(ctx, tok)
	_, hasIDToken := tok.Extra("id_token").(string)
	switch {
	case errors.Is(err, oauthflow.ErrNoIdentity) && (!hasIDToken || !verifiable):
		r.say("Note: %s does not say who signed in, so oauthbridge cannot check that it was %s.", r.providerName, r.account)
		return nil
	case err != nil:
		return fmt.Errorf("cannot confirm who signed in: %w", err)
	case !oauthflow.Matches(email, r.account, r.upstreamUser):
		return fmt.Errorf("you signed in as %s, not %s; nothing was saved. Sign in as %s and try again", email, r.account, r.account)
	}
	return nil
}

// identity asks the provider who granted tok, with the verifier the
// consent site builds for it; verifiable reports whether ID tokens can be
// checked there at all (an issuer or key set is known).
func (r *authorizeReq) identity(ctx context.Context, tok *oauth2.Token) (email string, verifiable bool, err error) {
	cp := consent.FromProvider(r.providerName, r.p, r.cfg.Providers[r.providerName])
	eps, err := cp.Resolve(ctx, "")
	if err != nil {
		return "", false, err
	}
	ic := cp.IdentityConfig(eps)
	email, err = oauthflow.NewIdentityVerifier(ic).Identity(ctx, tok, r.nonce)
	return email, ic.Issuer != "" || ic.JWKSURL != "", err
}

// save seals the grant under the password.
func (r *authorizeReq) save(ctx context.Context, password []byte, tok *oauth2.Token) error {
	store, err := openStore(r.cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	b := broker.New(store, brokerProviders(map[string]*provider.Provider{r.providerName: r.p}), r.log)
	if err := b.Save(ctx, r.account, r.providerName, r.upstreamUser, password, tok); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// say writes one line for the user on standard output.
func (r *authorizeReq) say(format string, args ...any) {
	fmt.Fprintf(r.e.stdout, format+"\n", args...)
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (`authorize alice@x --config f`), which the flag
// package alone does not.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

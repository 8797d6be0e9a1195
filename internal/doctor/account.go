package doctor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/provider"
	"github.com/oauthbridge/oauthbridge/proxy/hint"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
)

// DefaultStepTimeout bounds each account step (a refresh, one upstream
// login).
const DefaultStepTimeout = 60 * time.Second

// Account checks one account end to end: its stored grant, its local
// password, a real refresh at the identity provider, and a real upstream
// login with every protocol its provider serves.
type Account struct {
	Store     tokenstore.Store
	Providers map[string]*provider.Provider
	Log       *zap.Logger
	// Timeout bounds each step; zero means DefaultStepTimeout.
	Timeout time.Duration
}

// check is the state one account check carries from step to step.
type check struct {
	a       *Account
	account string
	rec     *tokenstore.Record
	p       *provider.Provider
	key     []byte
	tok     broker.Token
}

// Check runs the steps, stopping at the first one the next depend on.
func (a *Account) Check(ctx context.Context, r *Runner, account string, password []byte) {
	c := &check{a: a, account: account}
	name := "account " + account
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = DefaultStepTimeout
	}
	if !r.Step(ctx, name+": stored grant", timeout, c.record) {
		return
	}
	if !r.Step(ctx, name+": local password", timeout, func(context.Context) (string, error) { return c.unlock(password) }) {
		return
	}
	if !r.Step(ctx, name+": token refresh at "+c.rec.Provider, timeout, c.refresh) {
		return
	}
	for _, proto := range slices.Sorted(maps.Keys(c.p.Upstreams)) {
		ep := c.p.Upstreams[proto]
		r.Step(ctx, fmt.Sprintf("%s: %s login at %s", name, proto, ep.Addr), timeout, func(ctx context.Context) (string, error) {
			return c.login(ctx, proto)
		})
	}
}

func (c *check) record(ctx context.Context) (string, error) {
	rec, err := c.a.Store.Get(ctx, c.account)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return "", withHint(fmt.Errorf("no stored grant for %s", c.account), "run `oauthbridge authorize %s`, or log in once with a mail client to get the consent link", c.account)
	}
	if err != nil {
		return "", withHint(err, "the token store cannot be read: check store settings and the state directory")
	}
	if rec.Status != tokenstore.StatusOK {
		return "", withHint(fmt.Errorf("%s is %s: %s", c.account, rec.Status, rec.StatusReason), "the user must authorise again: `oauthbridge authorize %s` or the consent link a login shows", c.account)
	}
	c.rec, c.p = rec, c.a.Providers[rec.Provider]
	if c.p == nil {
		return "", withHint(fmt.Errorf("the grant is from provider %q, which is not configured", rec.Provider), "restore the provider in the configuration, or authorise the account again")
	}
	detail := "status ok, provider " + rec.Provider
	if !rec.LastRefresh.IsZero() {
		detail += ", last refresh " + rec.LastRefresh.UTC().Format(time.RFC3339)
	}
	return detail, nil
}

func (c *check) unlock(password []byte) (string, error) {
	key := tokenstore.DeriveKey(password, c.rec.KDF)
	if _, err := tokenstore.Open(key, c.account, c.rec.Sealed); err != nil {
		return "", withHint(errors.New("this password does not open the stored grant"),
			"use the local password chosen when the account was authorised (not the password at the provider)")
	}
	c.key = key
	return "opens the stored grant", nil
}

// refreshSeen is a broker observer that remembers the last result.
type refreshSeen struct {
	mu  sync.Mutex
	how string
	d   time.Duration
}

func (s *refreshSeen) RefreshDone(_, result string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.how, s.d = result, d
}

func (s *refreshSeen) last() (string, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.how, s.d
}

// refresh makes the broker refresh now, even if the stored access token
// is still good: doctor must show that the identity provider accepts the
// refresh token, and the broker stores a rotated one.
func (c *check) refresh(ctx context.Context) (string, error) {
	seen := &refreshSeen{}
	b := broker.New(c.a.Store, map[string]*broker.Provider{c.rec.Provider: {
		Name: c.rec.Provider, OAuth2: c.p.OAuth2, HTTPClient: c.p.HTTPClient}}, c.a.Log)
	b.Observer = seen
	tok, err := b.AccessToken(ctx, c.account, c.key)
	if how, _ := seen.last(); err == nil && how == "" {
		b.Forget(c.account, tok.AccessToken)
		tok, err = b.AccessToken(ctx, c.account, c.key)
	}
	if err != nil {
		return "", refreshHint(err, c.account)
	}
	c.tok = tok
	how, d := seen.last()
	return fmt.Sprintf("%s in %s, access token valid until %s", how, d.Round(time.Millisecond), tok.Expiry.UTC().Format(time.RFC3339)), nil
}

func refreshHint(err error, account string) error {
	switch {
	case errors.Is(err, broker.ErrNeedsConsent):
		return withHint(err, "the identity provider no longer accepts the stored grant (revoked, expired, password changed or consent withdrawn): run `oauthbridge authorize %s`", account)
	case errors.Is(err, broker.ErrTemporary):
		return withHint(err, "the identity provider failed or did not answer; the stored grant is kept: see the provider's check above")
	}
	return withHint(err, "see the error; the stored grant was not changed")
}

// advice picks the most specific hint for a refused upstream login: a
// known provider message first.
func advice(err error, general string) error {
	if h, ok := hint.For(err.Error()); ok {
		return withHint(err, "%s", h.Advice)
	}
	return withHint(err, "%s", general)
}

// scrubbed replaces the access token in foreign text, should a server
// ever echo it.
func (c *check) scrubbed(s string) string {
	if c.tok.AccessToken == "" {
		return s
	}
	return strings.ReplaceAll(s, c.tok.AccessToken, "[redacted]")
}

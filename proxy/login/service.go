package login

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/proxy/upstream"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
)

// Route is how one provider's accounts are served upstream.
type Route struct {
	// Provider is the provider's name.
	Provider string
	// Mechanism is the upstream SASL mechanism (XOAUTH2 or OAUTHBEARER).
	Mechanism string
	// Endpoints are the upstream servers by protocol.
	Endpoints map[Protocol]upstream.Endpoint
}

// Tokens is what the login path needs from the token broker.
type Tokens interface {
	AccessToken(ctx context.Context, account string, key []byte) (broker.Token, error)
	Forget(account, accessToken string)
}

// ServiceConfig assembles a Service.
type ServiceConfig struct {
	// Rules map login names to providers; the first match wins.
	Rules []Rule
	// Routes are the providers' upstreams, by provider name.
	Routes map[string]*Route
	// Store holds the sealed grants.
	Store tokenstore.Store
	// Broker returns access tokens.
	Broker Tokens
	// Consent opens consent tickets; nil when there is no consent page, in
	// which case users are told to ask for `oauthbridge authorize ACCOUNT`.
	Consent ConsentStarter
	// VerifierTTL bounds how long a verified password is remembered
	// (default 10 minutes), and so how long an old password keeps working
	// on another replica after the user re-authorised with a new one.
	VerifierTTL time.Duration
	// Throttle tunes failed-login throttling.
	Throttle ThrottleConfig
	// Log receives one line per login attempt; nil discards.
	Log *zap.Logger
}

// ConsentStarter opens a consent ticket for an account that has no usable
// grant and returns the link the user must open. The password is the one
// the user just typed: if consent succeeds it becomes the account's local
// password, so the implementation may keep a key derived from it (never
// the password itself) in the ticket.
type ConsentStarter interface {
	StartConsent(ctx context.Context, account, provider, password string) (url string, err error)
}

// Service is the login path: it implements Authenticator for every front
// end.
type Service struct {
	cfg      ServiceConfig
	verifier *verifierCache
	throttle *throttle
	decoy    tokenstore.KDFParams
	log      *zap.Logger
}

var _ Authenticator = (*Service)(nil)

// NewService checks cfg and returns the login service.
func NewService(cfg ServiceConfig) (*Service, error) {
	for _, r := range cfg.Rules {
		if err := r.validate(); err != nil {
			return nil, err
		}
		if cfg.Routes[r.Provider] == nil {
			return nil, fmt.Errorf("account rule %q: unknown provider %q", r.Match, r.Provider)
		}
	}
	if cfg.Store == nil || cfg.Broker == nil {
		return nil, errors.New("login: store and broker are required")
	}
	if cfg.VerifierTTL <= 0 {
		cfg.VerifierTTL = 10 * time.Minute
	}
	log := cfg.Log
	if log == nil {
		log = zap.NewNop()
	}
	return &Service{cfg: cfg, verifier: newVerifierCache(cfg.VerifierTTL),
		throttle: newThrottle(cfg.Throttle), decoy: tokenstore.DefaultKDF(), log: log}, nil
}

// Resolve maps a login name to its canonical account and rule.
func (s *Service) Resolve(username string) (string, Rule, bool) {
	return resolve(s.cfg.Rules, username)
}

// Authenticate verifies the local password and returns a grant with a
// fresh access token.
func (s *Service) Authenticate(ctx context.Context, req Request) (*Grant, error) {
	start := time.Now()
	g, err := s.authenticate(ctx, req)
	s.log.Info("login",
		zap.String("protocol", string(req.Protocol)),
		zap.String("user", req.Username),
		zap.Stringer("remote", addrString{req.Remote}),
		zap.String("result", Outcome(err)),
		zap.Duration("duration", time.Since(start)),
		zap.NamedError("reason", safeReason(err)))
	return g, err
}

func (s *Service) authenticate(ctx context.Context, req Request) (*Grant, error) {
	source := sourceKey(req.Remote)
	typed := Canonical(req.Username)
	if wait, blocked := s.throttle.blocked(typed, source); blocked {
		return nil, fmt.Errorf("%w (retry in %s)", ErrThrottled, wait.Round(time.Second))
	}
	g, err := s.check(ctx, req)
	switch {
	case err == nil:
		s.throttle.succeed(g.Account, source)
	case errors.Is(err, ErrBadCredentials):
		s.throttle.fail(typed, source, s.verifier.tag(req.Password))
	}
	return g, err
}

// check verifies the password and obtains the grant, throttling aside.
func (s *Service) check(ctx context.Context, req Request) (*Grant, error) {
	account, rule, ok := s.Resolve(req.Username)
	if !ok {
		s.burnDecoy(req.Password)
		return nil, ErrBadCredentials
	}
	route := s.cfg.Routes[rule.Provider]
	key, err := s.unlock(ctx, account, rule.Provider, req.Password)
	if err != nil {
		return nil, err
	}
	ep, ok := route.Endpoints[req.Protocol]
	if !ok {
		return nil, fmt.Errorf("%s via %s: %w", req.Protocol, rule.Provider, ErrNoProtocol)
	}
	tok, err := s.cfg.Broker.AccessToken(ctx, account, key)
	if err != nil {
		return nil, s.brokerError(ctx, account, rule.Provider, req.Password, err)
	}
	user := tok.UpstreamUser
	if user == "" {
		user = upstreamUser(rule, account)
	}
	return &Grant{
		Account:      account,
		Provider:     rule.Provider,
		UpstreamUser: user,
		AccessToken:  tok.AccessToken,
		Mechanism:    route.Mechanism,
		Upstream:     ep,
	}, nil
}

// unlock returns the account's sealing key if password is right.
func (s *Service) unlock(ctx context.Context, account, provider, password string) ([]byte, error) {
	if key, ok := s.verifier.lookup(account, password); ok {
		return key, nil
	}
	rec, err := s.cfg.Store.Get(ctx, account)
	switch {
	case errors.Is(err, tokenstore.ErrNotFound):
		return nil, s.consent(ctx, account, provider, password, "")
	case err != nil:
		return nil, fmt.Errorf("read %s: %w: %v", account, ErrTemporary, err)
	case rec.Status != tokenstore.StatusOK:
		return nil, s.consent(ctx, account, provider, password, rec.StatusReason)
	}
	key := tokenstore.DeriveKey([]byte(password), rec.KDF)
	if _, err := tokenstore.Open(key, account, rec.Sealed); err != nil {
		return nil, ErrBadCredentials
	}
	s.verifier.store(account, password, key)
	return key, nil
}

// burnDecoy spends the same work as a real password check, so that an
// unknown user cannot be told from a wrong password by timing.
func (s *Service) burnDecoy(password string) {
	tokenstore.DeriveKey([]byte(password), s.decoy)
}

func (s *Service) brokerError(ctx context.Context, account, provider, password string, err error) error {
	switch {
	case errors.Is(err, tokenstore.ErrNotFound):
		return s.consent(ctx, account, provider, password, "")
	case errors.Is(err, broker.ErrNeedsConsent):
		s.verifier.forget(account)
		return s.consent(ctx, account, provider, password, "the provider no longer accepts the stored authorisation")
	case errors.Is(err, tokenstore.ErrWrongKey):
		s.verifier.forget(account)
		return ErrBadCredentials
	default:
		return fmt.Errorf("token for %s: %w: %v", account, ErrTemporary, err)
	}
}

// consent builds the error that sends the user to authorise.
func (s *Service) consent(ctx context.Context, account, provider, password, reason string) error {
	msg := "Authorisation needed for " + account
	if reason != "" {
		msg += " (" + reason + ")"
	}
	e := &ConsentError{Account: account}
	if s.cfg.Consent != nil {
		url, err := s.cfg.Consent.StartConsent(ctx, account, provider, password)
		if err != nil {
			return fmt.Errorf("start consent for %s: %w: %v", account, ErrTemporary, err)
		}
		e.URL = url
		e.Message = msg + ": open " + url + " in a browser, sign in, then log in again."
		return e
	}
	e.Message = msg + ": ask your administrator to run `oauthbridge authorize " + account + "`, then log in again."
	return e
}

// Rejected drops the grant's access token so the next login refreshes.
func (s *Service) Rejected(g *Grant) {
	s.cfg.Broker.Forget(g.Account, g.AccessToken)
}

// Forget drops the remembered password of an account, for example after
// its record was replaced by a new consent.
func (s *Service) Forget(account string) {
	s.verifier.forget(Canonical(account))
}

func upstreamUser(r Rule, account string) string {
	if r.UpstreamUser != "" && r.Match == account {
		return r.UpstreamUser
	}
	return account
}

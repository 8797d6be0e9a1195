package login

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"

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
	// KDF returns the current key derivation parameters (nil:
	// tokenstore.DefaultKDF). Unknown users pay for a derivation with
	// them, and a record sealed under weaker ones is re-sealed under them
	// at its next successful login.
	KDF func() tokenstore.KDFParams
	// MaxConcurrentKDF bounds the derivations running at once (default:
	// GOMAXPROCS, at least 2). Each takes the KDF's memory (64 MiB by
	// default), so a flood of logins queues here instead of exhausting
	// memory.
	MaxConcurrentKDF int
	// Log receives one line per login attempt; nil discards.
	Log *zap.Logger
	// Audit, when set, receives the audit stream: exactly one line per
	// login attempt, in the fixed shape NewAuditLogger writes (see
	// audit.go and deploy/fail2ban).
	Audit *zap.Logger
	// OnAttempt, when set, is called after every login attempt (for
	// metrics). It must return quickly.
	OnAttempt func(Attempt)
	// OnThrottle, when set, is called when throttling locks a key or
	// refuses an attempt (for metrics). It must return quickly.
	OnThrottle func(ThrottleEvent)
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
	kdf      *kdfGate
	flights  singleflight.Group // cold unlocks in progress, by account and password tag
	decoy    tokenstore.KDFParams
	log      *zap.Logger
	audit    *zap.Logger
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
	if cfg.KDF == nil {
		cfg.KDF = tokenstore.DefaultKDF
	}
	s := &Service{cfg: cfg, verifier: newVerifierCache(cfg.VerifierTTL),
		kdf: newKDFGate(cfg.MaxConcurrentKDF), decoy: cfg.KDF(),
		log: orNop(cfg.Log), audit: orNop(cfg.Audit)}
	s.throttle = newThrottle(cfg.Throttle, s.throttled)
	return s, nil
}

func orNop(l *zap.Logger) *zap.Logger {
	if l == nil {
		return zap.NewNop()
	}
	return l
}

// Resolve maps a login name to its canonical account and rule.
func (s *Service) Resolve(username string) (string, Rule, bool) {
	return resolve(s.cfg.Rules, username)
}

// Authenticate verifies the local password and returns a grant with a
// fresh access token.
func (s *Service) Authenticate(ctx context.Context, req Request) (*Grant, error) {
	start := time.Now()
	var a attempt
	g, err := s.authenticate(ctx, req, &a)
	s.record(req, err, a.reason, start)
	return g, err
}

// attempt collects what the audit line says about one login beyond its
// error: why it failed, in words the client never sees.
type attempt struct {
	reason string
	// source and typed are the throttle's keys for this attempt.
	source, typed string
}

func (s *Service) authenticate(ctx context.Context, req Request, a *attempt) (*Grant, error) {
	source := sourceKey(req.Remote)
	typed := Canonical(req.Username)
	a.source, a.typed = source, typed
	if wait, kind, blocked := s.throttle.blocked(typed, source); blocked {
		a.reason = kind + " locked"
		return nil, fmt.Errorf("%w (retry in %s)", ErrThrottled, wait.Round(time.Second))
	}
	g, err := s.check(ctx, req, a)
	switch {
	case err == nil:
		s.throttle.succeed(g.Account, source)
	case errors.Is(err, ErrBadCredentials):
		s.throttle.fail(typed, source, s.verifier.tag(req.Password))
	}
	return g, err
}

// check verifies the password and obtains the grant, throttling aside.
func (s *Service) check(ctx context.Context, req Request, a *attempt) (*Grant, error) {
	account, rule, ok := s.Resolve(req.Username)
	if !ok {
		a.reason = reasonUnknownUser
		// The same store read a known user's check makes: with a shared
		// store it is a network round trip, which timing would show.
		s.cfg.Store.Get(ctx, decoyAccount)
		release, err := s.reserve(a)
		if err != nil {
			return nil, err
		}
		defer release()
		return nil, s.burnDecoy(ctx, req.Password)
	}
	route := s.cfg.Routes[rule.Provider]
	tok, err := s.token(ctx, account, rule.Provider, req.Password, a)
	if err != nil {
		return nil, err
	}
	ep, ok := route.Endpoints[req.Protocol]
	if !ok {
		return nil, fmt.Errorf("%s via %s: %w", req.Protocol, rule.Provider, ErrNoProtocol)
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

// token unlocks the account's grant with password and asks the broker for
// an access token. A key that stops opening the record between the check
// and the broker's read (a remembered key after the record was re-sealed,
// here or by another replica) gets one more try with a fresh read, so a
// right password is never refused because of that race.
func (s *Service) token(ctx context.Context, account, provider, password string, a *attempt) (broker.Token, error) {
	for try := 0; ; try++ {
		key, err := s.unlock(ctx, account, provider, password, try == 0, a)
		if err != nil {
			return broker.Token{}, err
		}
		tok, err := s.cfg.Broker.AccessToken(ctx, account, key)
		if errors.Is(err, tokenstore.ErrWrongKey) && try == 0 {
			s.verifier.forget(account)
			continue
		}
		if err != nil {
			return broker.Token{}, s.brokerError(ctx, account, provider, password, err, a)
		}
		return tok, nil
	}
}

// unlock returns the account's sealing key if password is right: from
// the verifier cache when cached allows it, else by deriving it with the
// record's parameters (and upgrading the record if they are weak).
func (s *Service) unlock(ctx context.Context, account, provider, password string, cached bool, a *attempt) ([]byte, error) {
	if key, ok := s.verifier.lookup(account, password); ok && cached {
		return key, nil
	}
	// Clients open several connections at once (Thunderbird two, a burst
	// after a restart many): logins with the same account and password
	// share one derivation instead of queueing a 64 MiB KDF each. The
	// flight key holds the password's in-memory HMAC tag, never the
	// password.
	tag := s.verifier.tag(password)
	flight := account + "\x00" + string(tag[:])
	v, err, _ := s.flights.Do(flight, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), coldUnlockTimeout)
		defer cancel()
		r := &unlocked{}
		release, err := s.reserve(a)
		if err != nil {
			r.err, r.reason = err, a.reason
			return r, nil
		}
		defer release()
		r.key, r.err = s.coldUnlock(fctx, account, provider, password, &r.reason)
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	r := v.(*unlocked)
	if r.reason != "" {
		a.reason = r.reason
	}
	return r.key, r.err
}

// reserve admits one password check for the attempt's source and account
// (see throttle.reserve), or returns ErrThrottled.
func (s *Service) reserve(a *attempt) (func(), error) {
	release, ok := s.throttle.reserve(a.typed, a.source)
	if !ok {
		a.reason = "too many checks in progress"
		return nil, fmt.Errorf("%w (too many concurrent attempts)", ErrThrottled)
	}
	return release, nil
}

// coldUnlockTimeout bounds one shared derivation, whoever waits for it.
const coldUnlockTimeout = 30 * time.Second

// unlocked is the shared outcome of one cold unlock.
type unlocked struct {
	key    []byte
	err    error
	reason string
}

// coldUnlock checks password against the stored record with the KDF.
func (s *Service) coldUnlock(ctx context.Context, account, provider, password string, reason *string) ([]byte, error) {
	rec, err := s.cfg.Store.Get(ctx, account)
	switch {
	case errors.Is(err, tokenstore.ErrNotFound):
		return nil, s.consent(ctx, account, provider, password, "")
	case err != nil:
		return nil, fmt.Errorf("read %s: %w: %v", account, ErrTemporary, err)
	case rec.Status != tokenstore.StatusOK:
		return nil, s.consent(ctx, account, provider, password, rec.StatusReason)
	}
	key, err := s.kdf.derive(ctx, password, rec.KDF)
	if err != nil {
		return nil, err
	}
	if _, err := tokenstore.Open(key, account, rec.Sealed); err != nil {
		*reason = reasonWrongPassword
		return nil, ErrBadCredentials
	}
	key = s.upgrade(ctx, rec, password, key)
	s.verifier.store(account, password, key)
	return key, nil
}

// decoyAccount is read from the store for unknown users; no login name can
// resolve to it (.invalid is reserved, RFC 2606).
const decoyAccount = "decoy@unknown-user.invalid"

// burnDecoy spends the same work as a real password check, so that an
// unknown user cannot be told from a wrong password by timing, and
// returns what a wrong password returns.
func (s *Service) burnDecoy(ctx context.Context, password string) error {
	if _, err := s.kdf.derive(ctx, password, s.decoy); err != nil {
		return err
	}
	return ErrBadCredentials
}

func (s *Service) brokerError(ctx context.Context, account, provider, password string, err error, a *attempt) error {
	switch {
	case errors.Is(err, tokenstore.ErrNotFound):
		return s.consent(ctx, account, provider, password, "")
	case errors.Is(err, broker.ErrNeedsConsent):
		s.verifier.forget(account)
		return s.consent(ctx, account, provider, password, "the provider no longer accepts the stored authorisation")
	case errors.Is(err, tokenstore.ErrWrongKey):
		s.verifier.forget(account)
		a.reason = reasonWrongPassword
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

package consent

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/proxy/consent/oauthflow"
	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// Service is the consent site. It implements login.ConsentStarter (the
// login path asks it for links) and http.Handler (mount it at "/"). It is
// safe for concurrent use.
type Service struct {
	cfg       Config
	public    *url.URL
	providers map[string]*Provider
	ids       map[string]*oauthflow.IdentityVerifier
	csrfKey   []byte
	kdfSlots  chan struct{}
	handler   http.Handler
	log       *zap.Logger

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	pollers map[string]*poller // ticket id -> its device poller
}

// New checks cfg and returns the consent site. Call Close when done, to
// stop device-flow pollers.
func New(cfg Config) (*Service, error) {
	public, err := cfg.check()
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, public: public, providers: map[string]*Provider{},
		ids: map[string]*oauthflow.IdentityVerifier{}, csrfKey: make([]byte, 32),
		kdfSlots: make(chan struct{}, 2), log: cfg.Log.Named("consent"), pollers: map[string]*poller{}}
	if cfg.FormKey != nil {
		s.csrfKey = append([]byte(nil), cfg.FormKey...)
	} else {
		_, _ = rand.Read(s.csrfKey)
	}
	for name, p := range cfg.Providers {
		c := *p
		s.providers[name] = &c
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.handler = s.routes()
	return s, nil
}

// Close stops the device-flow pollers and waits for them.
func (s *Service) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// ServeHTTP serves the consent site.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// StartConsent opens (or reuses) a ticket for account and returns its
// link. password is the one typed at the login: a key derived from it is
// kept in the ticket, so that it becomes the local password if consent
// succeeds; under RequireGeneratedPassword, or when it is empty, no key is
// kept and a password is generated at success. Repeated refused logins
// with the same password get the same link.
func (s *Service) StartConsent(ctx context.Context, account, provider, password string) (string, error) {
	if s.providers[provider] == nil {
		return "", fmt.Errorf("consent: unknown provider %q", provider)
	}
	upstream := account
	if s.cfg.Accounts != nil {
		if a, ok := s.cfg.Accounts(account); ok && a.UpstreamUser != "" {
			upstream = a.UpstreamUser
		}
	}
	t, reused, err := s.ticketFor(ctx, account, provider, upstream, password)
	if err != nil {
		return "", err
	}
	if !reused {
		s.log.Info("consent link issued", zap.String("account", account), zap.String("provider", provider),
			zap.String("ticket", ticketTag(t.ID)), zap.Bool("generated_password", t.Key == nil))
	}
	return s.ticketURL(t.ID), nil
}

// ticketFor returns the newest idle ticket of the account when it would
// seal under the same password, else a new one.
func (s *Service) ticketFor(ctx context.Context, account, provider, upstream, password string) (*Ticket, bool, error) {
	keyless := s.cfg.RequireGeneratedPassword || password == ""
	prev, err := s.cfg.Tickets.Newest(ctx, account)
	if err != nil && !errors.Is(err, ErrTicketNotFound) {
		return nil, false, fmt.Errorf("consent: %w", err)
	}
	if prev != nil && (prev.Stage != StageChoose || prev.Provider != provider || prev.FromStart) {
		prev = nil
	}
	var kdf tokenstore.KDFParams
	var key []byte
	if !keyless {
		kdf = s.cfg.KDF()
		if prev != nil && prev.Key != nil {
			kdf = prev.KDF
		}
		if key, err = s.derive(ctx, []byte(password), kdf); err != nil {
			return nil, false, err
		}
	}
	if prev != nil && (prev.Key == nil) == keyless && (keyless || subtle.ConstantTimeCompare(prev.Key, key) == 1) {
		return prev, true, nil
	}
	t := s.newTicket(account, provider, upstream)
	t.KDF, t.Key = kdf, key
	if err := s.cfg.Tickets.Add(ctx, t); err != nil {
		return nil, false, fmt.Errorf("consent: %w", err)
	}
	return t, false, nil
}

func (s *Service) newTicket(account, provider, upstream string) *Ticket {
	now := time.Now()
	return &Ticket{ID: oauthflow.Random(), Account: account, Provider: provider, UpstreamUser: upstream,
		Created: now, Expires: now.Add(s.cfg.TicketTTL), Stage: StageChoose}
}

// derive runs Argon2id with at most two derivations at a time, so a
// flood of logins or start-page posts cannot take all memory.
func (s *Service) derive(ctx context.Context, password []byte, kdf tokenstore.KDFParams) ([]byte, error) {
	select {
	case s.kdfSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("consent: derive key: %w", ctx.Err())
	}
	defer func() { <-s.kdfSlots }()
	return tokenstore.DeriveKey(password, kdf), nil
}

func (s *Service) ticketURL(id string) string {
	return s.public.String() + "/consent/" + id
}

// identity returns the (cached) identity verifier for a provider.
func (s *Service) identity(name string, eps Endpoints) *oauthflow.IdentityVerifier {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.ids[name]; v != nil {
		return v
	}
	p := s.providers[name]
	v := oauthflow.NewIdentityVerifier(p.IdentityConfig(eps))
	s.ids[name] = v
	return v
}

// SetOnSaved sets Config.OnSaved after New, for wiring where the login
// service that wants the call is built from this Service. Call it before
// the Service serves.
func (s *Service) SetOnSaved(fn func(account string)) { s.cfg.OnSaved = fn }

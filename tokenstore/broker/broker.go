package broker

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// Sentinel errors callers branch on with errors.Is. AccessToken also
// passes through tokenstore.ErrNotFound and tokenstore.ErrWrongKey.
var (
	// ErrNeedsConsent: the account's grant is unusable (the identity
	// provider refused it, or an admin revoked it); the user must consent
	// again. The sealed grant is kept.
	ErrNeedsConsent = errors.New("broker: account needs consent")
	// ErrTemporary: the identity provider or the store failed in a way
	// that may pass; the stored grant is untouched.
	ErrTemporary = errors.New("broker: temporary failure")
	// ErrUnknownProvider: the record names a provider that is not
	// configured (any more).
	ErrUnknownProvider = errors.New("broker: provider not configured")
)

// DefaultRefreshTimeout bounds one refresh at the identity provider.
const DefaultRefreshTimeout = 20 * time.Second

// minRemaining is how long a token must still live to be handed out: a
// mail login that takes a few seconds must not see it expire midway.
const minRemaining = time.Minute

// assumedLifetime is used when the identity provider omits expires_in.
const assumedLifetime = 5 * time.Minute

// Provider is what the broker needs of a configured identity provider.
type Provider struct {
	// Name is the provider's configured name, as in Record.Provider.
	Name string
	// OAuth2 holds the client credentials and endpoints. Set
	// Endpoint.AuthStyle explicitly: auto-detection sends two requests
	// for every failed refresh.
	OAuth2 *oauth2.Config
	// HTTPClient, with timeouts and the provider's CA; nil means
	// http.DefaultClient (the refresh deadline still applies).
	HTTPClient *http.Client
}

// Broker hands out access tokens for accounts. It is safe for concurrent
// use. Set the exported fields, if at all, before the first call.
type Broker struct {
	// KDF returns the key derivation parameters for grants saved by Save;
	// nil means tokenstore.DefaultKDF. Tests inject cheap parameters.
	KDF func() tokenstore.KDFParams
	// RefreshTimeout bounds one refresh at the identity provider; zero
	// means DefaultRefreshTimeout.
	RefreshTimeout time.Duration
	// Observer, when set, hears how every refresh ended (for metrics).
	Observer Observer

	store     tokenstore.Store
	providers map[string]*Provider
	log       *zap.Logger

	mu      sync.Mutex
	cache   map[string]cacheEntry // account -> last good access token
	refused map[string][][32]byte // account -> hashes of the last tokens upstream refused
	flights map[string]*flight    // account -> refresh in progress
}

// cacheEntry is a valid access token, usable only with the key that
// opened its grant.
type cacheEntry struct {
	tok     Token
	keyHash [32]byte
}

// New returns a Broker over store for the given providers (by name). A
// nil log discards log lines.
func New(store tokenstore.Store, providers map[string]*Provider, log *zap.Logger) *Broker {
	if log == nil {
		log = zap.NewNop()
	}
	ps := make(map[string]*Provider, len(providers))
	for name, p := range providers {
		ps[name] = p
	}
	return &Broker{
		store:     store,
		providers: ps,
		log:       log,
		cache:     map[string]cacheEntry{},
		refused:   map[string][][32]byte{},
		flights:   map[string]*flight{},
	}
}

// AccessToken returns a valid access token for account: from memory while
// it has more than a minute left, else from the stored grant, else by
// refreshing it (opening the sealed grant with key). Errors wrap
// tokenstore.ErrNotFound, tokenstore.ErrWrongKey, ErrNeedsConsent,
// ErrTemporary or ErrUnknownProvider.
func (b *Broker) AccessToken(ctx context.Context, account string, key []byte) (Token, error) {
	start := time.Now()
	tok, res, err := b.accessToken(ctx, account, key)
	b.logResult(account, res, err, time.Since(start))
	return tok, err
}

// result says how AccessToken ended, for the log line.
type result struct {
	provider string
	how      string
}

func (b *Broker) accessToken(ctx context.Context, account string, key []byte) (Token, result, error) {
	rec, err := b.store.Get(ctx, account)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return Token{}, result{how: "not_found"}, fmt.Errorf("broker: %w", err)
	} else if err != nil {
		return Token{}, result{how: "temporary"}, fmt.Errorf("broker: read %s: %w: %w", account, ErrTemporary, err)
	}
	res := result{provider: rec.Provider}
	if rec.Status != tokenstore.StatusOK {
		res.how = "needs_consent"
		return Token{}, res, consentError(rec)
	}
	p := b.providers[rec.Provider]
	if p == nil || p.OAuth2 == nil {
		res.how = "unknown_provider"
		return Token{}, res, fmt.Errorf("%w: account %s uses %q", ErrUnknownProvider, account, rec.Provider)
	}
	if tok, ok := b.cached(account, key); ok {
		res.how = "cached"
		return tok, res, nil
	}
	g, err := tokenstore.Open(key, account, rec.Sealed)
	if err != nil {
		res.how = "wrong_key"
		return Token{}, res, fmt.Errorf("broker: %w", err)
	}
	if tok, ok := b.usable(rec, g); ok {
		b.remember(account, key, tok)
		res.how = "stored"
		return tok, res, nil
	}
	tok, how, err := b.refresh(ctx, account, key, p)
	res.how = how
	return tok, res, err
}

func consentError(rec *tokenstore.Record) error {
	return fmt.Errorf("%w: %s is %s (%s)", ErrNeedsConsent, rec.Account, rec.Status, rec.StatusReason)
}

// usable returns g's access token if it lives long enough and upstream
// has not refused it.
func (b *Broker) usable(rec *tokenstore.Record, g *tokenstore.Grant) (Token, bool) {
	if g.AccessToken == "" || time.Until(g.Expiry) <= minRemaining {
		return Token{}, false
	}
	h := sha256.Sum256([]byte(g.AccessToken))
	b.mu.Lock()
	refused := slices.Contains(b.refused[rec.Account], h)
	b.mu.Unlock()
	if refused {
		return Token{}, false
	}
	return Token{AccessToken: g.AccessToken, Expiry: g.Expiry, UpstreamUser: rec.UpstreamUser, Provider: rec.Provider}, true
}

func (b *Broker) cached(account string, key []byte) (Token, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.cache[account]
	if !ok || e.keyHash != sha256.Sum256(key) || time.Until(e.tok.Expiry) <= minRemaining {
		return Token{}, false
	}
	return e.tok, true
}

func (b *Broker) remember(account string, key []byte, tok Token) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cache[account] = cacheEntry{tok: tok, keyHash: sha256.Sum256(key)}
}

// maxRefused bounds how many refused tokens are remembered per account.
const maxRefused = 4

// Forget drops a cached access token that the upstream refused, so the
// next call refreshes instead of handing it out again.
func (b *Broker) Forget(account, accessToken string) {
	h := sha256.Sum256([]byte(accessToken))
	b.mu.Lock()
	if e, ok := b.cache[account]; ok && sha256.Sum256([]byte(e.tok.AccessToken)) == h {
		delete(b.cache, account)
	}
	// Kept after a refresh replaced the token: a login that read the record
	// just before the refresh stored must still see that its copy was
	// refused, or it would cache it again.
	if r := b.refused[account]; !slices.Contains(r, h) {
		b.refused[account] = append(r[max(0, len(r)-maxRefused+1):], h)
	}
	b.mu.Unlock()
	b.log.Debug("access token forgotten", zap.String("account", account))
}

// logResult writes AccessToken's line at debug level: the refresh, the
// one event worth more, has its own line (see fly); only trouble that an
// operator must fix (store, configuration) is a warning here.
func (b *Broker) logResult(account string, res result, err error, d time.Duration) {
	level := zapcore.DebugLevel
	if res.how == "unknown_provider" || (res.how == "temporary" && res.provider == "") {
		level = zapcore.WarnLevel
	}
	fields := []zap.Field{zap.String("account", account), zap.String("provider", res.provider),
		zap.String("result", res.how), zap.Duration("duration", d)}
	if err != nil {
		fields = append(fields, zap.Error(err))
	}
	b.log.Log(level, "access token", fields...)
}

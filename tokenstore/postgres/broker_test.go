package postgres_test

import (
	"context"
	"github.com/oauthbridge/oauthbridge/tokenstore/postgres/pgtest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
)

const (
	alice    = "alice@example.com"
	password = "alice-local-pw-5d1c"
)

// replicas is two brokers, each on its own store (pool) over one schema,
// as two oauthbridge processes behind a load balancer, sharing one IdP.
type replicas struct {
	t    *testing.T
	dsn  string
	idp  *testidp.IdP
	a, b *broker.Broker
	logs *observer.ObservedLogs
	log  *zap.Logger

	mu   sync.Mutex
	errs []error
}

func newReplicas(t *testing.T) *replicas {
	core, logs := observer.New(zapcore.DebugLevel)
	r := &replicas{t: t, dsn: pgtest.Schema(t), idp: testidp.New(t), logs: logs, log: zap.New(core)}
	r.a, r.b = r.broker(r.dsn), r.broker(r.dsn)
	t.Cleanup(r.checkNoLeaks)
	return r
}

func (r *replicas) broker(dsn string) *broker.Broker {
	p := &broker.Provider{Name: "lab", OAuth2: r.idp.Config(""), HTTPClient: r.idp.Client()}
	return newBroker(openStore(r.t, dsn), p, r.log)
}

func newBroker(s tokenstore.Store, p *broker.Provider, log *zap.Logger) *broker.Broker {
	b := broker.New(s, map[string]*broker.Provider{"lab": p}, log)
	b.KDF = fastKDF
	return b
}

// fastKDF keeps Save cheap in tests.
func fastKDF() tokenstore.KDFParams {
	p := tokenstore.DefaultKDF()
	p.MemoryKiB, p.Threads = 64, 1
	return p
}

// consent stores a grant whose access token has already expired and
// returns the refresh token the IdP issued.
func (r *replicas) consent() string {
	r.t.Helper()
	tok := r.idp.Issue(alice)
	tok.Expiry = time.Now().Add(-time.Minute)
	if err := r.a.Save(context.Background(), alice, "lab", alice, []byte(password), tok); err != nil {
		r.t.Fatal(err)
	}
	return tok.RefreshToken
}

// stored opens the grant in the database with a store of its own.
func (r *replicas) stored() (*tokenstore.Record, *tokenstore.Grant) {
	r.t.Helper()
	rec, err := openStore(r.t, r.dsn).Get(context.Background(), alice)
	if err != nil {
		r.t.Fatal(err)
	}
	g, err := tokenstore.Open(tokenstore.DeriveKey([]byte(password), rec.KDF), alice, rec.Sealed)
	if err != nil {
		r.t.Fatal(err)
	}
	return rec, g
}

func (r *replicas) key() []byte {
	rec, _ := r.stored()
	return tokenstore.DeriveKey([]byte(password), rec.KDF)
}

func (r *replicas) access(b *broker.Broker, ctx context.Context, key []byte) (broker.Token, error) {
	tok, err := b.AccessToken(ctx, alice, key)
	if err != nil {
		r.mu.Lock()
		r.errs = append(r.errs, err)
		r.mu.Unlock()
	}
	return tok, err
}

// checkNoLeaks fails the test if a token, the local password, the client
// secret or the database password shows up in a log line or error text.
func (r *replicas) checkNoLeaks() {
	secrets := append(r.idp.Secrets(), password, dsnPassword(r.dsn))
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	var texts []string
	for _, e := range r.logs.All() {
		buf, err := enc.EncodeEntry(e.Entry, e.Context)
		if err != nil {
			r.t.Fatal(err)
		}
		texts = append(texts, buf.String())
	}
	for _, err := range r.errs {
		texts = append(texts, err.Error())
	}
	for _, text := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				r.t.Errorf("secret leaked: %s", text)
			}
		}
	}
}

// TestTwoReplicasRefreshOnce: 200 concurrent logins spread over two
// replicas on an expired access token cause exactly one refresh at the
// IdP; everyone gets the one new token; the rotated refresh token is the
// one stored.
func TestTwoReplicasRefreshOnce(t *testing.T) {
	r := newReplicas(t)
	first := r.consent()
	key := r.key()
	r.idp.SetDelay(100 * time.Millisecond) // make the logins overlap the refresh
	toks := make([]broker.Token, 200)
	var wg sync.WaitGroup
	for i := range toks {
		b := r.a
		if i%2 == 1 {
			b = r.b
		}
		wg.Go(func() {
			var err error
			if toks[i], err = r.access(b, context.Background(), key); err != nil {
				t.Errorf("login %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := r.idp.RefreshRequests(); n != 1 {
		t.Fatalf("%d refreshes at the IdP for 200 logins on two replicas, want 1", n)
	}
	for i, tok := range toks {
		if tok.AccessToken != toks[0].AccessToken {
			t.Fatalf("login %d got another access token than login 0", i)
		}
	}
	if email, ok := r.idp.Validate(toks[0].AccessToken); !ok || email != alice {
		t.Fatalf("the shared access token is not valid at the IdP (%q, %v)", email, ok)
	}
	rec, g := r.stored()
	if latest := r.idp.LatestRefreshToken(alice); g.RefreshToken != latest || latest == first {
		t.Fatal("the database does not hold the IdP's newest refresh token")
	}
	if rec.Version != 2 || g.AccessToken != toks[0].AccessToken {
		t.Fatalf("record version %d after one refresh, want 2 (and the handed-out token stored)", rec.Version)
	}
}

// idpConfig rebuilds the IdP's client configuration from its URL and
// secret, as a child process must.
func idpConfig(url, secret string) *oauth2.Config {
	return &oauth2.Config{ClientID: testidp.ClientID, ClientSecret: secret,
		Endpoint: oauth2.Endpoint{TokenURL: url + "/token", AuthStyle: oauth2.AuthStyleInHeader}}
}

package broker_test

import (
	"context"
	"path/filepath"
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
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

const (
	alice    = "alice@example.com"
	password = "alice-local-pw-7f3a"
)

// fastKDF keeps Save cheap in tests.
func fastKDF() tokenstore.KDFParams {
	p := tokenstore.DefaultKDF()
	p.MemoryKiB, p.Threads = 64, 1
	return p
}

// env is one test's world: an IdP, a store file, brokers on it, and every
// log line and error they produced. At cleanup it fails the test if any
// token, password or client secret shows up in a log line or error text.
type env struct {
	t     *testing.T
	idp   *testidp.IdP
	path  string
	store *filestore.Store
	b     *broker.Broker
	logs  *observer.ObservedLogs
	log   *zap.Logger

	mu      sync.Mutex
	secrets []string
	errs    []error
}

func newEnv(t *testing.T) *env {
	core, logs := observer.New(zapcore.DebugLevel)
	e := &env{t: t, idp: testidp.New(t), path: filepath.Join(t.TempDir(), filestore.DefaultName),
		logs: logs, log: zap.New(core), secrets: []string{password}}
	e.store = e.openStore()
	e.b = e.newBroker(e.store)
	t.Cleanup(e.checkNoLeaks)
	return e
}

func (e *env) openStore() *filestore.Store {
	s, err := filestore.Open(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
	return s
}

func (e *env) provider() *broker.Provider {
	return &broker.Provider{Name: "lab", OAuth2: e.idp.Config(""), HTTPClient: e.idp.Client()}
}

func (e *env) newBroker(s tokenstore.Store) *broker.Broker {
	b := broker.New(s, map[string]*broker.Provider{"lab": e.provider()}, e.log)
	b.KDF = fastKDF
	return b
}

// save consents for account with a token whose access part has ttl left
// (negative: already expired), and returns the token the IdP issued.
func (e *env) save(account string, ttl time.Duration) *oauth2.Token {
	e.t.Helper()
	tok := e.idp.Issue(account)
	tok.Expiry = time.Now().Add(ttl)
	if err := e.b.Save(context.Background(), account, "lab", account, []byte(password), tok); err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// key derives the sealing key the way the login code does.
func (e *env) key(account, pw string) []byte {
	e.t.Helper()
	r, err := e.store.Get(context.Background(), account)
	if err != nil {
		e.t.Fatal(err)
	}
	return tokenstore.DeriveKey([]byte(pw), r.KDF)
}

// access calls b.AccessToken and records what came back for the leak check.
func (e *env) access(b *broker.Broker, ctx context.Context, account string, key []byte) (broker.Token, error) {
	tok, err := b.AccessToken(ctx, account, key)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.errs = append(e.errs, err)
	}
	return tok, err
}

// grant opens the stored grant straight from a fresh store on the file.
func (e *env) grant(account string) (*tokenstore.Record, *tokenstore.Grant) {
	e.t.Helper()
	s := e.openStore()
	r, err := s.Get(context.Background(), account)
	if err != nil {
		e.t.Fatal(err)
	}
	g, err := tokenstore.Open(tokenstore.DeriveKey([]byte(password), r.KDF), account, r.Sealed)
	if err != nil {
		e.t.Fatal(err)
	}
	return r, g
}

func (e *env) checkNoLeaks() {
	secrets := append(e.idp.Secrets(), e.secrets...)
	var texts []string
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	for _, entry := range e.logs.All() {
		buf, err := enc.EncodeEntry(entry.Entry, entry.Context)
		if err != nil {
			e.t.Fatal(err)
		}
		texts = append(texts, buf.String())
	}
	for _, err := range e.errs {
		texts = append(texts, err.Error())
	}
	if leaked := leaks(texts, secrets); len(leaked) > 0 {
		e.t.Errorf("secrets leaked into logs or errors: %q", leaked)
	}
}

// leaks returns the texts that contain any secret (or its first 12
// characters, to catch a truncated token).
func leaks(texts, secrets []string) []string {
	var out []string
	for _, text := range texts {
		for _, s := range secrets {
			if s != "" && (strings.Contains(text, s) || strings.Contains(text, s[:min(12, len(s))])) {
				out = append(out, text)
				break
			}
		}
	}
	return out
}

func TestLeakCheckerCatches(t *testing.T) {
	got := leaks([]string{"clean line", `{"msg":"x","tok":"rt-0123456789abcdef"}`, "trunc rt-0123456789a..."},
		[]string{"rt-0123456789abcdef0011"})
	if len(got) != 2 {
		t.Fatalf("leaks found %d lines, want 2: %q", len(got), got)
	}
}

// TestLogsCoverResults checks that the leak check has material: a refresh
// scenario logs account, provider, result and duration at debug and info.
func TestLogsCoverResults(t *testing.T) {
	e := newEnv(t)
	e.save(alice, -time.Minute)
	if _, err := e.access(e.b, context.Background(), alice, e.key(alice, password)); err != nil {
		t.Fatal(err)
	}
	refreshes := e.logs.FilterMessage("token refresh").All()
	if len(refreshes) != 1 {
		t.Fatalf("%d refresh log lines, want 1", len(refreshes))
	}
	m := refreshes[0].ContextMap()
	if m["account"] != alice || m["provider"] != "lab" || m["result"] != "refreshed" || m["duration"] == nil {
		t.Fatalf("refresh line fields = %v", m)
	}
}

package login_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

// cheapKDF keeps tests fast; the production parameters are measured in
// benchmarks, not here.
func cheapKDF() tokenstore.KDFParams {
	p := tokenstore.DefaultKDF()
	p.MemoryKiB, p.Time, p.Threads = 64, 1, 1
	return p
}

type env struct {
	idp   *testidp.IdP
	store *filestore.Store
	br    *broker.Broker
	svc   *login.Service
	logs  *observer.ObservedLogs
	path  string
	// cfg is what svc was built from, to build a second replica.
	cfg login.ServiceConfig
}

// linkConsent hands out a fixed-shape link and records what it was given.
type linkConsent struct{ account, provider, password string }

func (c *linkConsent) StartConsent(_ context.Context, account, provider, password string) (string, error) {
	c.account, c.provider, c.password = account, provider, password
	return "http://127.0.0.1:8025/consent/TICKET", nil
}

func newEnv(t *testing.T, consent login.ConsentStarter) *env {
	t.Helper()
	return newEnvWith(t, func(c *login.ServiceConfig) { c.Consent = consent })
}

// newEnvWith builds the environment with cheap KDF parameters everywhere,
// then lets tune change the service's configuration (and br.KDF may be
// changed afterwards for records saved later).
func newEnvWith(t *testing.T, tune func(*login.ServiceConfig)) *env {
	t.Helper()
	idp := testidp.New(t)
	path := filepath.Join(t.TempDir(), "tokens.json")
	st, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(core)
	br := broker.New(st, map[string]*broker.Provider{
		"lab": {Name: "lab", OAuth2: idp.Config(""), HTTPClient: idp.Client()},
	}, log)
	br.KDF = cheapKDF
	cfg := login.ServiceConfig{
		Rules: []login.Rule{
			{Match: "boss@example.test", Provider: "lab", UpstreamUser: "boss@tenant.example"},
			{Match: "*@example.test", Provider: "lab"},
		},
		Routes: map[string]*login.Route{"lab": {Provider: "lab", Mechanism: "XOAUTH2",
			Endpoints: map[login.Protocol]upstream.Endpoint{login.IMAP: {Addr: "127.0.0.1:1", TLS: upstream.Implicit}}}},
		Store:  st,
		Broker: br,
		Log:    log,
		KDF:    cheapKDF,
	}
	tune(&cfg)
	svc, err := login.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{idp: idp, store: st, br: br, svc: svc, logs: logs, path: path, cfg: cfg}
}

func (e *env) authorize(t *testing.T, account, password string) {
	t.Helper()
	if err := e.br.Save(context.Background(), account, "lab", "", []byte(password), e.idp.Issue(account)); err != nil {
		t.Fatal(err)
	}
}

func req(user, pass string) login.Request {
	return login.Request{Protocol: login.IMAP, Username: user, Password: pass,
		Remote: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 40000}}
}

func TestAuthenticateReturnsFreshGrant(t *testing.T) {
	e := newEnv(t, nil)
	e.authorize(t, "alice@example.test", "s3cret")
	g, err := e.svc.Authenticate(context.Background(), req("Alice@Example.TEST", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	if g.Account != "alice@example.test" || g.UpstreamUser != "alice@example.test" || g.Provider != "lab" {
		t.Fatalf("grant %v", g)
	}
	if email, ok := e.idp.Validate(g.AccessToken); !ok || email != "alice@example.test" {
		t.Fatalf("token not valid at the IdP: %v %q", ok, email)
	}
	if g.Upstream.Addr != "127.0.0.1:1" || g.Mechanism != "XOAUTH2" {
		t.Fatalf("route not applied: %+v", g.Upstream)
	}
	if strings.Contains(g.String(), g.AccessToken) {
		t.Fatal("Grant.String leaks the token")
	}
	// The second login is served from the verifier and token caches.
	if _, err := e.svc.Authenticate(context.Background(), req("alice@example.test", "s3cret")); err != nil {
		t.Fatal(err)
	}
}

func TestExactRuleSetsUpstreamUser(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.br.Save(context.Background(), "boss@example.test", "lab", "boss@tenant.example", []byte("pw"), e.idp.Issue("boss@example.test")); err != nil {
		t.Fatal(err)
	}
	g, err := e.svc.Authenticate(context.Background(), req("boss@example.test", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	if g.UpstreamUser != "boss@tenant.example" {
		t.Fatalf("upstream user %q", g.UpstreamUser)
	}
}

func TestUnknownUserAndWrongPasswordLookAlike(t *testing.T) {
	e := newEnv(t, nil)
	e.authorize(t, "alice@example.test", "s3cret")
	before, _ := os.ReadFile(e.path)
	_, errWrong := e.svc.Authenticate(context.Background(), req("alice@example.test", "guess"))
	_, errUnknown := e.svc.Authenticate(context.Background(), req("mallory@elsewhere.test", "guess"))
	if !errors.Is(errWrong, login.ErrBadCredentials) || !errors.Is(errUnknown, login.ErrBadCredentials) {
		t.Fatalf("errors: %v / %v", errWrong, errUnknown)
	}
	if errWrong.Error() != errUnknown.Error() {
		t.Fatalf("texts differ: %q vs %q", errWrong, errUnknown)
	}
	after, _ := os.ReadFile(e.path)
	if !bytes.Equal(before, after) {
		t.Fatal("a wrong password changed the store")
	}
}

func TestNoRecordAsksForConsent(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.svc.Authenticate(context.Background(), req("new@example.test", "pw"))
	var ce *login.ConsentError
	if !errors.As(err, &ce) || !errors.Is(err, login.ErrNeedsConsent) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(ce.Message, "oauthbridge authorize new@example.test") {
		t.Fatalf("message does not say what to do: %q", ce.Message)
	}
	lc := &linkConsent{}
	e2 := newEnv(t, lc)
	_, err = e2.svc.Authenticate(context.Background(), req("New@example.test", "pw"))
	if !errors.As(err, &ce) || ce.URL == "" || !strings.Contains(ce.Message, ce.URL) {
		t.Fatalf("consent link missing: %v", err)
	}
	if strings.Contains(err.Error(), ce.URL) {
		t.Fatalf("the error text, which reaches logs, carries the consent link: %q", err.Error())
	}
	if lc.account != "new@example.test" || lc.provider != "lab" || lc.password != "pw" {
		t.Fatalf("consent started with %+v", lc)
	}
}

func TestRevokedGrantAsksForConsentAndKeepsRecord(t *testing.T) {
	e := newEnv(t, nil)
	e.authorize(t, "alice@example.test", "s3cret")
	e.idp.Revoke("alice@example.test")
	e.idp.Expire("alice@example.test")
	e.br.Forget("alice@example.test", "")
	// Force a refresh: the cached access token is expired at the IdP only,
	// so drop the broker's copy by reporting it refused.
	g, err := e.svc.Authenticate(context.Background(), req("alice@example.test", "s3cret"))
	if err == nil {
		e.svc.Rejected(g)
		_, err = e.svc.Authenticate(context.Background(), req("alice@example.test", "s3cret"))
	}
	if !errors.Is(err, login.ErrNeedsConsent) {
		t.Fatalf("err = %v, want needs consent", err)
	}
	rec, gerr := e.store.Get(context.Background(), "alice@example.test")
	if gerr != nil || rec.Status != tokenstore.StatusNeedsConsent || len(rec.Sealed) == 0 {
		t.Fatalf("record after revocation: %v %+v", gerr, rec)
	}
}

func TestIdPOutageIsTemporary(t *testing.T) {
	e := newEnv(t, nil)
	e.authorize(t, "alice@example.test", "s3cret")
	g, err := e.svc.Authenticate(context.Background(), req("alice@example.test", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Rejected(g)
	e.idp.SetFailure(503)
	_, err = e.svc.Authenticate(context.Background(), req("alice@example.test", "s3cret"))
	if !errors.Is(err, login.ErrTemporary) {
		t.Fatalf("err = %v, want temporary", err)
	}
	rec, _ := e.store.Get(context.Background(), "alice@example.test")
	if rec.Status != tokenstore.StatusOK {
		t.Fatalf("an outage changed the status to %s", rec.Status)
	}
}

func TestProtocolWithoutUpstream(t *testing.T) {
	e := newEnv(t, nil)
	e.authorize(t, "alice@example.test", "s3cret")
	r := req("alice@example.test", "s3cret")
	r.Protocol = login.POP3
	if _, err := e.svc.Authenticate(context.Background(), r); !errors.Is(err, login.ErrNoProtocol) {
		t.Fatalf("err = %v", err)
	}
}

func TestBruteForceIsThrottledButOwnerGetsIn(t *testing.T) {
	e := newEnv(t, nil)
	e.authorize(t, "alice@example.test", "s3cret")
	owner := req("alice@example.test", "s3cret")
	owner.Remote = &net.TCPAddr{IP: net.IPv4(198, 51, 100, 9), Port: 1}
	if _, err := e.svc.Authenticate(context.Background(), owner); err != nil {
		t.Fatal(err)
	}
	evaluated, throttled := 0, 0
	for i := range 200 {
		_, err := e.svc.Authenticate(context.Background(), req("alice@example.test", "guess"+string(rune('A'+i%50))+string(rune('a'+i/50))))
		switch {
		case errors.Is(err, login.ErrThrottled):
			throttled++
		case errors.Is(err, login.ErrBadCredentials):
			evaluated++
		default:
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	t.Logf("200 guesses from one address: %d evaluated, %d refused unevaluated", evaluated, throttled)
	if evaluated > 10 {
		t.Fatalf("%d guesses were evaluated, throttling is not working", evaluated)
	}
	if _, err := e.svc.Authenticate(context.Background(), owner); err != nil {
		t.Fatalf("owner locked out from their usual address: %v", err)
	}
}

func TestLogsCarryNoSecrets(t *testing.T) {
	e := newEnv(t, nil)
	e.authorize(t, "alice@example.test", "s3cret-pw")
	ctx := context.Background()
	g, _ := e.svc.Authenticate(ctx, req("alice@example.test", "s3cret-pw"))
	e.svc.Rejected(g)
	e.svc.Authenticate(ctx, req("alice@example.test", "s3cret-pw"))
	e.svc.Authenticate(ctx, req("alice@example.test", "wrong-pw-123"))
	e.idp.Revoke("alice@example.test")
	g, _ = e.svc.Authenticate(ctx, req("alice@example.test", "s3cret-pw"))
	if g != nil {
		e.svc.Rejected(g)
	}
	e.svc.Authenticate(ctx, req("alice@example.test", "s3cret-pw"))
	if e.logs.Len() == 0 {
		t.Fatal("nothing was logged")
	}
	secrets := append(e.idp.Secrets(), "s3cret-pw", "wrong-pw-123")
	for _, entry := range e.logs.All() {
		line := entry.Message
		for k, v := range entry.ContextMap() {
			line += " " + k + "=" + toString(v)
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(line, s) {
				t.Fatalf("log line leaks a secret: %s", line)
			}
		}
	}
}

func toString(v any) string { return fmt.Sprint(v) }

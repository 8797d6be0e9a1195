package bench

import (
	"context"
	"crypto/tls"
	"path/filepath"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/imapfront"
	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
	"github.com/oauthbridge/oauthbridge/proxy/listener"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

// Stack is oauthbridge assembled in this process from the same parts the
// daemon wires (implicit-TLS listener, IMAP front end, login service,
// broker, file store), in front of a World. Go benchmarks use it; the
// command runs the real binary instead, so that the proxy's CPU and
// memory can be measured apart from the clients'.
type Stack struct {
	// Addr is the imaps listener; TLS trusts its certificate.
	Addr string
	TLS  *tls.Config
	// Login is the login service, to forget a verified password.
	Login *login.Service

	certDER []byte
}

// NewStack starts the stack with a grant for each account (production
// key derivation) and stops it at cleanup.
func NewStack(tb testing.TB, w *World, accounts []Account) *Stack {
	tb.Helper()
	st, err := filestore.Open(filepath.Join(tb.TempDir(), "tokens.json"))
	must(tb, err)
	tb.Cleanup(func() { st.Close() })
	br := broker.New(st, map[string]*broker.Provider{
		"lab": {Name: "lab", OAuth2: w.IdP.Config(""), HTTPClient: w.IdP.Client()}}, nil)
	for _, a := range accounts {
		must(tb, br.Save(context.Background(), a.Email, "lab", "", []byte(a.Password), w.IdP.Issue(a.Email)))
	}
	svc, err := login.NewService(login.ServiceConfig{
		Rules: []login.Rule{{Match: "*@example.test", Provider: "lab"}},
		Routes: map[string]*login.Route{"lab": {Provider: "lab", Mechanism: "XOAUTH2",
			Endpoints: map[login.Protocol]upstream.Endpoint{login.IMAP: w.Up.Endpoint()}}},
		Store: st, Broker: br,
	})
	must(tb, err)
	cert, roots, err := imaptest.SelfSigned("127.0.0.1")
	must(tb, err)
	ls := &listener.Server{Name: "imaps", Addr: "127.0.0.1:0", TLSConfig: listener.ServerTLSConfig(cert),
		Handler: &imapfront.Server{Auth: svc, Implicit: true}}
	must(tb, ls.Listen())
	go ls.Serve()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ls.Shutdown(ctx)
	})
	return &Stack{Addr: ls.BoundAddr().String(), TLS: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"},
		Login: svc, certDER: cert.Leaf.Raw}
}

// Leg logs in as a through the stack.
func (s *Stack) Leg(a Account) Leg {
	return viaProxy(&Proxy{Addr: s.Addr, TLS: s.TLS}, a, 0)
}

// Package imaptest runs a real IMAP server for tests: go-imap v2's
// imapserver with imapmemserver's mailboxes, on 127.0.0.1, that accepts
// nothing but AUTHENTICATE XOAUTH2 with a token a test-supplied function
// vouches for, as OAuth-only providers do.
//
// A refused token gets the XOAUTH2 error challenge (base64 of
// {"status":"401","schemes":"bearer","scope":...}), and after the
// client's empty answer a tagged NO [AUTHENTICATIONFAILED], the way Gmail
// and Dovecot answer. LOGIN is refused. The server always advertises
// SASL-IR (go-imap cannot switch it off).
package imaptest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/oauthbridge/oauthbridge/internal/testcert"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// Options configure Start.
type Options struct {
	// Validate checks an access token and returns the mail address it
	// was issued for. It must be set.
	Validate func(accessToken string) (email string, ok bool)
	// Users get a mailbox store with an INBOX each; a login for an
	// address not listed is refused.
	Users []string
	// TLS is how clients reach the server: upstream.Implicit (the
	// default), upstream.StartTLS or upstream.Plain.
	TLS upstream.TLSMode
	// Scope is named in the error challenge.
	Scope string
}

// Server is a running test server.
type Server struct {
	// Addr is 127.0.0.1:port.
	Addr string
	// TLS is the mode clients must use.
	TLS upstream.TLSMode
	// RootCAs verifies the server's self-signed certificate.
	RootCAs *x509.CertPool

	opts     Options
	srv      *imapserver.Server
	mu       sync.Mutex
	users    map[string]*imapmemserver.User
	logins   atomic.Int64
	refusals atomic.Int64
}

// Start starts a server and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Validate == nil {
		t.Fatal("imaptest: Options.Validate is required")
	}
	if opts.TLS == "" {
		opts.TLS = upstream.Implicit
	}
	cert, roots, err := testcert.SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{TLS: opts.TLS, RootCAs: roots, opts: opts, users: map[string]*imapmemserver.User{}}
	for _, u := range opts.Users {
		s.addUser(u)
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	ln, err := s.listen(tlsConfig)
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	s.srv = imapserver.New(s.options(tlsConfig))
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *Server) listen(cfg *tls.Config) (net.Listener, error) {
	if s.TLS == upstream.Implicit {
		return tls.Listen("tcp", "127.0.0.1:0", cfg)
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

func (s *Server) options(cfg *tls.Config) *imapserver.Options {
	o := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &session{srv: s}, nil, nil
		},
		Caps:   imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}, imap.CapNamespace: {}, imap.CapMove: {}},
		Logger: log.New(discard{}, "", 0),
		// Loopback without TLS only when the test asked for plain text.
		InsecureAuth: s.TLS == upstream.Plain,
	}
	if s.TLS == upstream.StartTLS {
		o.TLSConfig = cfg
	}
	return o
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Endpoint is where a proxy should connect, with the roots to trust.
func (s *Server) Endpoint() upstream.Endpoint {
	return upstream.Endpoint{Addr: s.Addr, TLS: s.TLS, TLSConfig: &tls.Config{RootCAs: s.RootCAs}}
}

func (s *Server) addUser(name string) *imapmemserver.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := imapmemserver.NewUser(name, "")
	u.Create("INBOX", nil)
	s.users[name] = u
	return u
}

func (s *Server) user(name string) *imapmemserver.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[name]
}

// Deliver appends a message to a user's mailbox, as mail arriving from
// elsewhere; sessions idling on it see EXISTS.
func (s *Server) Deliver(user, mailbox string, msg []byte) error {
	u := s.user(user)
	if u == nil {
		return fmt.Errorf("imaptest: no user %q", user)
	}
	_, err := u.Append(mailbox, bytes.NewReader(msg), &imap.AppendOptions{Time: time.Now()})
	return err
}

// Logins counts successful XOAUTH2 logins.
func (s *Server) Logins() int { return int(s.logins.Load()) }

// Refusals counts refused tokens.
func (s *Server) Refusals() int { return int(s.refusals.Load()) }

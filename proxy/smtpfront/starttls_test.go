package smtpfront

import (
	"crypto/tls"
	"testing"

	"github.com/oauthbridge/oauthbridge/internal/testcert"
)

// testTLS returns a server configuration and a client configuration that
// trusts it.
func testTLS(t testing.TB) (server, roots *tls.Config) {
	t.Helper()
	cfg, pool, err := testcert.ServerConfig(testcert.Loopback...)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func withTLS(t testing.TB, require bool) func(*Server) {
	cfg, _ := testTLS(t)
	return func(s *Server) { s.TLSConfig, s.RequireTLS = cfg, require }
}

// STARTTLS: AUTH hidden and refused before it; clear-text bytes pipelined
// after it discarded; a fresh EHLO required after it.
func TestSTARTTLS(t *testing.T) {
	cfg, roots := testTLS(t)
	h := newHarness(t, &Server{Auth: &fakeAuth{}, TLSConfig: cfg, RequireTLS: true})
	c := h.dial()
	c.expect(greeting)
	c.send(ehlo)
	c.expect(ehloHead + "250 STARTTLS\r\n")
	c.send("AUTH PLAIN " + plainIR(testUser, testPassword) + "\r\n")
	c.expect("530 5.7.0 Must issue a STARTTLS command first\r\n")
	c.send("STARTTLS extra\r\n")
	c.expect("501 5.5.4 Syntax: STARTTLS\r\n")

	// An attacker's injected command rides along in clear text.
	c.send("STARTTLS\r\nAUTH PLAIN " + plainIR(testUser, "injected") + "\r\n")
	c.expect("220 2.0.0 Ready to start TLS\r\n")
	c.startTLS(roots)

	// Had the injected AUTH run, its 503/535 would come before this reply.
	c.send("NOOP\r\n")
	c.expect("250 2.0.0 OK\r\n")
	c.send("AUTH PLAIN " + plainIR(testUser, "wrong") + "\r\n")
	c.expect("503 5.5.1 Send EHLO first\r\n")
	c.send(ehlo)
	c.expect(ehloPlain)
	c.send("STARTTLS\r\n")
	c.expect("503 5.5.1 TLS already active\r\n")
	c.send("AUTH PLAIN " + plainIR(testUser, "wrong") + "\r\n")
	c.expect("535 5.7.8 Authentication credentials invalid\r\n")
	c.send("QUIT\r\n")
	c.expect("221 2.0.0 mx.test closing connection\r\n")
	c.expectClosed()
	if s := h.session(0); !s.TLS {
		t.Error("session not marked TLS")
	}
	if n := h.srv.Auth.(*fakeAuth).callCount(); n != 1 {
		t.Errorf("authenticator called %d times, want 1 (the injected AUTH must not run)", n)
	}
}

func TestImplicitTLS(t *testing.T) {
	cfg, roots := testTLS(t)
	h := newHarness(t, &Server{Auth: &fakeAuth{}, TLSConfig: cfg, Implicit: true, RequireTLS: true})
	c := h.dial()
	c.startTLS(roots)
	c.expect(greeting)
	c.send(ehlo)
	c.expect(ehloPlain)
	c.send("QUIT\r\n")
	c.expect("221 2.0.0 mx.test closing connection\r\n")
}

// A client that is not speaking TLS on the implicit port is dropped.
func TestImplicitTLSGarbage(t *testing.T) {
	cfg, _ := testTLS(t)
	h := newHarness(t, &Server{Auth: &fakeAuth{}, TLSConfig: cfg, Implicit: true})
	c := h.dial()
	c.send("EHLO client.example\r\n")
	c.expectClosed()
	if r := h.session(0).Result; r != "protocol_error" {
		t.Errorf("result %q", r)
	}
}

package imapfront

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
)

func tlsConfigs(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	cert, roots, err := imaptest.SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}},
		&tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
}

const (
	capsPlainTLS = "IMAP4rev1 SASL-IR ID LITERAL+ STARTTLS AUTH=PLAIN AUTH=LOGIN"
	capsAfterTLS = "IMAP4rev1 SASL-IR ID LITERAL+ AUTH=PLAIN AUTH=LOGIN"
)

func TestSTARTTLS(t *testing.T) {
	srvTLS, cliTLS := tlsConfigs(t)
	auth := &fakeAuth{}
	c := dialFront(t, &Server{Auth: auth, TLSConfig: srvTLS}, nil)
	c.expect("* OK [CAPABILITY " + capsPlainTLS + "] oauthbridge ready")
	c.send("1 starttls\r\n")
	c.expect("1 OK Begin TLS negotiation now")
	c.startTLS(cliTLS)
	c.send("2 capability\r\n")
	c.expect("* CAPABILITY "+capsAfterTLS, "2 OK CAPABILITY completed")
	c.send("3 STARTTLS\r\n")
	c.expect("3 BAD STARTTLS not available")
	c.send("4 LOGIN alice pw\r\n")
	c.expect("4" + badCreds)
	if !c.sess.TLS {
		t.Error("session not marked TLS")
	}
}

// Commands pipelined behind STARTTLS were sent in clear text, where an
// attacker may have put them: they must not run (CVE-2011-0411).
func TestSTARTTLSDiscardsInjectedCommands(t *testing.T) {
	srvTLS, cliTLS := tlsConfigs(t)
	auth := &fakeAuth{}
	c := dialFront(t, &Server{Auth: auth, TLSConfig: srvTLS}, nil)
	c.expect("* OK [CAPABILITY " + capsPlainTLS + "] oauthbridge ready")
	c.send("1 STARTTLS\r\n2 LOGIN mallory secret\r\n3 NOOP\r\n")
	c.expect("1 OK Begin TLS negotiation now")
	c.startTLS(cliTLS)
	c.send("4 NOOP\r\n")
	c.expect("4 OK NOOP completed")
	if n := len(auth.requests()); n != 0 {
		t.Errorf("injected LOGIN reached the authenticator (%d requests)", n)
	}
}

func TestSTARTTLSNotOffered(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}}, nil)
	c.expect(greeting)
	c.send("1 STARTTLS\r\n")
	c.expect("1 BAD STARTTLS not available")
	c.send("2 NOOP\r\n")
	c.expect("2 OK NOOP completed")
}

func TestSTARTTLSHandshakeFailure(t *testing.T) {
	srvTLS, _ := tlsConfigs(t)
	c := dialFront(t, &Server{Auth: &fakeAuth{}, TLSConfig: srvTLS}, nil)
	c.expect("* OK [CAPABILITY " + capsPlainTLS + "] oauthbridge ready")
	c.send("1 STARTTLS\r\n")
	c.expect("1 OK Begin TLS negotiation now")
	c.send("2 NOOP\r\n") // not a ClientHello
	c.expectClosed()
	if c.sess.Result != "client_tls" {
		t.Errorf("result %q", c.sess.Result)
	}
}

// RequireTLS: no login in clear text, and the capabilities say so.
func TestRequireTLS(t *testing.T) {
	srvTLS, cliTLS := tlsConfigs(t)
	auth := &fakeAuth{}
	c := dialFront(t, &Server{Auth: auth, TLSConfig: srvTLS, RequireTLS: true}, nil)
	c.expect("* OK [CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+ STARTTLS LOGINDISABLED] oauthbridge ready")
	c.send("1 LOGIN alice pw\r\n")
	c.expect("1 NO [PRIVACYREQUIRED] TLS is required to log in, use STARTTLS")
	c.send("2 AUTHENTICATE PLAIN " + b64("\x00alice\x00pw") + "\r\n")
	c.expect("2 NO [PRIVACYREQUIRED] TLS is required to log in, use STARTTLS")
	c.send("3 STARTTLS\r\n")
	c.expect("3 OK Begin TLS negotiation now")
	c.startTLS(cliTLS)
	c.send("4 CAPABILITY\r\n")
	c.expect("* CAPABILITY "+capsAfterTLS, "4 OK CAPABILITY completed")
	c.send("5 LOGIN alice pw\r\n")
	c.expect("5" + badCreds)
	if n := len(auth.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// On an implicit-TLS listener STARTTLS is neither offered nor accepted,
// and RequireTLS is satisfied.
func TestImplicitTLS(t *testing.T) {
	srvTLS, cliTLS := tlsConfigs(t)
	wrap := func(c net.Conn) net.Conn { return tls.Server(c, srvTLS) }
	c := dialFront(t, &Server{Auth: &fakeAuth{}, TLSConfig: srvTLS, Implicit: true, RequireTLS: true}, wrap)
	c.startTLS(cliTLS)
	c.expect("* OK [CAPABILITY " + capsAfterTLS + "] oauthbridge ready")
	c.send("1 STARTTLS\r\n")
	c.expect("1 BAD STARTTLS not available")
	if !c.sess.TLS {
		t.Error("session not marked TLS")
	}
}

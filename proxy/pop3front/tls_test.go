package pop3front

import (
	"crypto/tls"
	"io"
	"testing"
)

const capaTLS = "+OK Capability list follows\r\nUSER\r\nSASL PLAIN LOGIN\r\n" +
	"PIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nIMPLEMENTATION oauthbridge\r\n.\r\n"

// A command pipelined behind STLS was sent in clear; it must be dropped,
// not run inside the TLS session (the STARTTLS injection bug class).
func TestSTLSDiscardsInjectedCommands(t *testing.T) {
	cfg, pool := selfSigned(t)
	srv := newServer()
	srv.TLSConfig = cfg
	p := dialPOP(t, startFrontend(t, srv))
	if g := p.line(); g != greeting {
		t.Fatalf("greeting %q", g)
	}
	p.cmd("CAPA", "+OK")
	if got := string(p.body()); got != "USER\r\nSASL PLAIN LOGIN\r\nSTLS\r\nPIPELINING\r\nRESP-CODES\r\n"+
		"AUTH-RESP-CODE\r\nIMPLEMENTATION oauthbridge\r\n" {
		t.Errorf("CAPA before STLS: %q", got)
	}
	io.WriteString(p.c, "STLS\r\nUSER injected\r\n")
	if got := p.line(); got != "+OK Begin TLS negotiation\r\n" {
		t.Fatalf("STLS: %q", got)
	}
	tc := tls.Client(p.c, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	p = newPopClient(t, tc)
	if got := p.cmd("PASS x", "-ERR"); got != "-ERR Send USER first\r\n" {
		t.Errorf("PASS after STLS: %q (the injected USER ran)", got)
	}
	p.cmd("CAPA", "+OK")
	if got := "+OK Capability list follows\r\n" + string(p.body()) + ".\r\n"; got != capaTLS {
		t.Errorf("CAPA after STLS: %q", got)
	}
	p.cmd("STLS", "-ERR Already using TLS")
	p.cmd("QUIT", "+OK oauthbridge closing")
}

func TestImplicitTLS(t *testing.T) {
	cfg, pool := selfSigned(t)
	srv := newServer()
	srv.TLSConfig, srv.Implicit, srv.RequireTLS = cfg, true, true
	addr := startFrontend(t, srv)
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := newPopClient(t, c)
	if g := p.line(); g != greeting {
		t.Fatalf("greeting %q", g)
	}
	p.cmd("CAPA", "+OK")
	if got := "+OK Capability list follows\r\n" + string(p.body()) + ".\r\n"; got != capaTLS {
		t.Errorf("CAPA: %q", got)
	}
	p.cmd("USER "+testUser, "+OK Send PASS")
	p.cmd("PASS wrong", "-ERR [AUTH] Invalid user name or password")
}

// A client that fails the handshake is dropped without a reply.
func TestImplicitTLSHandshakeFailure(t *testing.T) {
	cfg, _ := selfSigned(t)
	srv := newServer()
	srv.TLSConfig, srv.Implicit = cfg, true
	sess := transcript(t, srv, []step{{"USER x\r\n", ""}}, false)
	if sess.Result != "protocol_error" {
		t.Errorf("result %q", sess.Result)
	}
}

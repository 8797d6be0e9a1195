package doctor

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// script serves one connection: for each step, the line it expects
// (empty: none) and the lines it answers; "TLS" switches to TLS.
type script []struct{ want, answer string }

func serveScript(t *testing.T, implicit bool, cert tls.Certificate, s script) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if implicit {
			c = tls.Server(c, cfg)
		}
		br := bufio.NewReader(c)
		for _, st := range s {
			if st.want != "" {
				line, err := br.ReadString('\n')
				if err != nil || strings.TrimRight(line, "\r\n") != st.want {
					t.Errorf("server wanted %q, got %q (%v)", st.want, line, err)
					return
				}
			}
			if st.answer == "TLS" {
				c = tls.Server(c, cfg)
				br = bufio.NewReader(c)
				continue
			}
			c.Write([]byte(st.answer))
		}
		br.ReadString('\n') // until the client hangs up
	}()
	return ln.Addr().String()
}

func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cert, pool, err := imaptest.SelfSigned("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return cert, pool
}

func TestUpstreamProbes(t *testing.T) {
	cert, pool := testCert(t)
	trusted := &tls.Config{RootCAs: pool}
	for _, tc := range []struct {
		name, proto string
		mode        upstream.TLSMode
		s           script
		want        string
	}{
		{"imaps", "imap", upstream.Implicit, script{{"", "* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] ready\r\n"}}, `TLS 1.3, certificate for localhost verified`},
		{"imap starttls", "imap", upstream.StartTLS, script{{"", "* OK ready\r\n"}, {"D1 STARTTLS", "D1 OK go\r\n"}, {"", "TLS"}}, `greeting "* OK ready"`},
		{"pop3 stls", "pop3", upstream.StartTLS, script{{"", "+OK POP3 ready\r\n"}, {"STLS", "+OK\r\n"}, {"", "TLS"}}, `greeting "+OK POP3 ready"`},
		{"smtp starttls", "smtp", upstream.StartTLS, script{{"", "220-mail.example\r\n220 ESMTP\r\n"}, {"EHLO oauthbridge-doctor", "250-mail.example\r\n250 STARTTLS\r\n"}, {"STARTTLS", "220 go ahead\r\n"}, {"", "TLS"}}, `greeting "220 ESMTP"`},
	} {
		addr := serveScript(t, tc.mode == upstream.Implicit, cert, tc.s)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		detail, err := Upstream(ctx, tc.proto, upstream.Endpoint{Addr: addr, TLS: tc.mode, TLSConfig: trusted})
		cancel()
		if err != nil || !strings.Contains(detail, tc.want) {
			t.Errorf("%s: %q, %v; want %q", tc.name, detail, err, tc.want)
		}
	}
}

func TestUpstreamProbeFailuresHaveHints(t *testing.T) {
	cert, pool := testCert(t)
	_, otherPool := testCert(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name  string
		ep    func() upstream.Endpoint
		proto string
		hint  string
	}{
		{"nothing listens", func() upstream.Endpoint { return upstream.Endpoint{Addr: closed, TLS: upstream.Implicit} }, "imap",
			"nothing answers at " + closed},
		{"untrusted certificate", func() upstream.Endpoint {
			addr := serveScript(t, true, cert, script{{"", "* OK\r\n"}})
			return upstream.Endpoint{Addr: addr, TLS: upstream.Implicit, TLSConfig: &tls.Config{RootCAs: otherPool}}
		}, "imap", "is not trusted or does not match"},
		{"not this protocol", func() upstream.Endpoint {
			addr := serveScript(t, true, cert, script{{"", "220 smtp.example ESMTP\r\n"}})
			return upstream.Endpoint{Addr: addr, TLS: upstream.Implicit, TLSConfig: &tls.Config{RootCAs: pool}}
		}, "pop3", "not like this protocol's server"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := Upstream(ctx, tc.proto, tc.ep())
		cancel()
		if err == nil || !strings.Contains(hintOf(err), tc.hint) {
			t.Errorf("%s: %v, hint %q; want hint with %q", tc.name, err, hintOf(err), tc.hint)
		}
	}
}

package imapfront

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// Each failure of the authenticator gets its own reply and result.
func TestLoginErrorMapping(t *testing.T) {
	consent := &login.ConsentError{Account: "alice@example.com", URL: "https://bridge.example/consent/x",
		Message: "Authorise oauthbridge for alice@example.com:\r\n* BYE https://bridge.example/consent/x"}
	for _, tc := range []struct {
		err    error
		reply  string
		result string
	}{
		{login.ErrBadCredentials, "NO [AUTHENTICATIONFAILED] Invalid user name or password", "bad_credentials"},
		{fmt.Errorf("check: %w", login.ErrBadCredentials), "NO [AUTHENTICATIONFAILED] Invalid user name or password", "bad_credentials"},
		{login.ErrThrottled, "NO [UNAVAILABLE] Too many failed logins, try again later", "throttled"},
		{consent, "NO [ALERT] Authorise oauthbridge for alice@example.com:  * BYE https://bridge.example/consent/x", "needs_consent"},
		{fmt.Errorf("broker: %w", consent), "NO [ALERT] Authorise oauthbridge for alice@example.com:  * BYE https://bridge.example/consent/x", "needs_consent"},
		{fmt.Errorf("refresh: %w", login.ErrTemporary), "NO [UNAVAILABLE] Temporary failure at the identity provider, try again later", "temporary"},
		{login.ErrNoProtocol, "NO [UNAVAILABLE] No IMAP server is configured for this account", "no_upstream"},
		{errors.New("disk on fire"), "NO [UNAVAILABLE] Internal error, try again later", "internal_error"},
		{nil, "NO [UNAVAILABLE] Internal error, try again later", "internal_error"}, // neither grant nor error
	} {
		t.Run(tc.result, func(t *testing.T) {
			c := dialFront(t, &Server{Auth: failWith(tc.err)}, nil)
			c.expect(greeting)
			c.send("7 LOGIN alice pw\r\n")
			c.expect("7 " + tc.reply)
			if c.sess.Result != tc.result {
				t.Errorf("result %q, want %q", c.sess.Result, tc.result)
			}
		})
	}
}

// Each way the upstream login can fail, as the client sees it.
func TestUpstreamErrorMapping(t *testing.T) {
	closed := closedAddr(t)
	mem := startMem(t, upstream.Implicit, "nothing valid")
	badCert := mem.Endpoint()
	badCert.TLSConfig = nil
	for _, tc := range []struct {
		name   string
		ep     func(t *testing.T) upstream.Endpoint
		reply  string
		result string
	}{
		{"unreachable", func(*testing.T) upstream.Endpoint { return upstream.Endpoint{Addr: closed, TLS: upstream.Plain} },
			"NO [UNAVAILABLE] Mail server " + closed + " unreachable", "upstream_unreachable"},
		{"tls", func(*testing.T) upstream.Endpoint { return badCert },
			"NO [UNAVAILABLE] TLS verification of mail server " + mem.Addr + " failed", "upstream_tls"},
		{"refused", func(*testing.T) upstream.Endpoint { return mem.Endpoint() },
			"NO [AUTHENTICATIONFAILED] Mail server " + mem.Addr + " refused the access token: Authentication failed. (scope " + memScope + ")",
			"upstream_refused"},
		{"unavailable", func(t *testing.T) upstream.Endpoint {
			return scripted(t, nil, sayLine("* BYE [UNAVAILABLE] Maintenance until 10:00"))
		}, "NO [UNAVAILABLE] Mail server ADDR temporarily unavailable: Maintenance until 10:00", "upstream_unavailable"},
		{"protocol", func(t *testing.T) upstream.Endpoint { return scripted(t, nil, sayLine("* PREAUTH hello")) },
			"NO [UNAVAILABLE] Unexpected reply from mail server ADDR: server greeted with PREAUTH", "upstream_protocol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := tc.ep(t)
			c := dialFront(t, &Server{Auth: grantFor(ep, "alice@example.com", testToken)}, nil)
			c.expect(greeting)
			c.send("8 LOGIN alice pw\r\n")
			c.expect("8 " + strings.ReplaceAll(tc.reply, "ADDR", ep.Addr))
			if c.sess.Result != tc.result {
				t.Errorf("result %q, want %q", c.sess.Result, tc.result)
			}
		})
	}
}

// A refused token is reported to the authenticator and the login retried
// once with what it returns next; a second refusal ends the attempt.
func TestRejectedTokenRetriedOnce(t *testing.T) {
	t.Run("fresh token works", func(t *testing.T) {
		mem := startMem(t, upstream.Implicit, "fresh")
		auth := grantFor(mem.Endpoint(), "alice@example.com", "revoked", "fresh")
		c := dialFront(t, &Server{Auth: auth}, nil)
		c.expect(greeting)
		c.send("9 LOGIN alice pw\r\n")
		c.expect("9 OK [CAPABILITY " + goIMAPCaps + "] Logged in")
		if len(auth.requests()) != 2 || auth.rejections() != 1 || mem.Refusals() != 1 || mem.Logins() != 1 {
			t.Errorf("requests %d rejections %d refusals %d logins %d",
				len(auth.requests()), auth.rejections(), mem.Refusals(), mem.Logins())
		}
	})
	t.Run("refused twice", func(t *testing.T) {
		mem := startMem(t, upstream.Implicit)
		auth := grantFor(mem.Endpoint(), "alice@example.com", "a", "b")
		c := dialFront(t, &Server{Auth: auth}, nil)
		c.expect(greeting)
		c.send("9 LOGIN alice pw\r\n")
		c.expect("9 NO [AUTHENTICATIONFAILED] Mail server " + mem.Addr +
			" refused the access token: Authentication failed. (scope " + memScope + ")")
		if len(auth.requests()) != 2 || auth.rejections() != 2 || mem.Refusals() != 2 {
			t.Errorf("requests %d rejections %d refusals %d", len(auth.requests()), auth.rejections(), mem.Refusals())
		}
	})
	t.Run("second authenticate fails", func(t *testing.T) {
		mem := startMem(t, upstream.Implicit)
		auth := grantFor(mem.Endpoint(), "alice@example.com", "a")
		inner := auth.answer
		auth.answer = func(n int, req login.Request) (*login.Grant, error) {
			if n == 1 {
				return nil, &login.ConsentError{Message: "Please authorise again"}
			}
			return inner(n, req)
		}
		c := dialFront(t, &Server{Auth: auth}, nil)
		c.expect(greeting)
		c.send("9 LOGIN alice pw\r\n")
		c.expect("9 NO [ALERT] Please authorise again")
	})
}

func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

package smtpfront

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/smtpfront/smtptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

const authOK = "235 2.7.0 Authentication successful\r\n"

// Every AUTH form a client may use ends in a relayed, working session.
func TestAuthForms(t *testing.T) {
	forms := []struct {
		name  string
		lines []line
	}{
		{"plain initial response", []line{{"AUTH PLAIN " + plainIR(testUser, testPassword) + "\r\n", authOK}}},
		{"plain with authzid", []line{{"AUTH PLAIN " + b64(testUser+"\x00"+testUser+"\x00"+testPassword) + "\r\n", authOK}}},
		{"plain two steps", []line{{"auth plain\r\n", "334 \r\n"}, {plainIR(testUser, testPassword) + "\r\n", authOK}}},
		{"login initial response", []line{{"AUTH LOGIN " + b64(testUser) + "\r\n", "334 UGFzc3dvcmQ6\r\n"},
			{b64(testPassword) + "\r\n", authOK}}},
		{"login three steps", []line{{"AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n"},
			{b64(testUser) + "\r\n", "334 UGFzc3dvcmQ6\r\n"}, {b64(testPassword) + "\r\n", authOK}}},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			up := startUpstream(t, nil)
			auth := &fakeAuth{endpoint: up.Endpoint()}
			h := newHarness(t, &Server{Auth: auth})
			c := h.dial()
			c.expect(greeting)
			c.send(ehlo)
			c.expect(ehloPlain)
			for _, l := range f.lines {
				c.send(l.send)
				c.expect(l.want)
			}
			// From here on the upstream answers.
			c.send("MAIL FROM:<" + testUser + ">\r\n")
			c.expectCode("250")
			c.send("QUIT\r\n")
			c.expectCode("221")
			c.expectClosed()
			c.conn.Close()
			s := h.session(0)
			if s.Result != "ok" || s.Account != testUser {
				t.Errorf("result %q account %q", s.Result, s.Account)
			}
			if up.Logins() != 1 {
				t.Errorf("upstream logins %d", up.Logins())
			}
			req := auth.request(0)
			if req.Protocol != login.SMTP || req.Username != testUser || req.Password != testPassword || req.Remote == nil {
				t.Errorf("request %+v", req)
			}
		})
	}
}

// A pipelining client's commands after AUTH, and its whole message, sent
// in one write, all reach the upstream.
func TestPipeliningAcrossAuth(t *testing.T) {
	up := startUpstream(t, nil)
	h := newHarness(t, &Server{Auth: &fakeAuth{endpoint: up.Endpoint()}})
	c := h.dial()
	c.expect(greeting)
	c.send(ehlo)
	c.expect(ehloPlain)
	body := "Subject: pipelined\r\n\r\nline one\r\n..dot-stuffed\r\n"
	c.send("AUTH PLAIN " + plainIR(testUser, testPassword) + "\r\n" +
		"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n" +
		body + ".\r\nQUIT\r\n")
	c.expect(authOK)
	for _, code := range []string{"250", "250", "354", "250", "221"} {
		c.expectCode(code)
	}
	c.expectClosed()
	msgs := up.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	want := "Subject: pipelined\r\n\r\nline one\r\n.dot-stuffed\r\n"
	if string(m.Data) != want || m.From != "a@example.com" || !slices.Equal(m.To, []string{"b@example.org"}) {
		t.Errorf("got %+v %q", m, m.Data)
	}
}

// The client's EHLO name is what the upstream sees.
func TestEHLONamePassedUpstream(t *testing.T) {
	peer := startPeer(t, []peerStep{
		{reply: "220 peer ready\r\n"},
		{expect: exact("EHLO [192.0.2.7]"), reply: "250 peer\r\n"},
		{expect: prefix("AUTH XOAUTH2 "), reply: "235 2.7.0 Accepted\r\n"},
	}, false)
	h := newHarness(t, &Server{Auth: &fakeAuth{endpoint: peer.endpoint()}})
	c := h.dial()
	c.expect(greeting)
	c.send("EHLO [192.0.2.7]\r\n")
	c.expect(ehloPlain)
	c.send("AUTH PLAIN " + plainIR(testUser, testPassword) + "\r\n")
	c.expect(authOK)
	c.conn.Close()
	peer.wait()
}

// Failed logins map to one reply each, and the connection stays usable.
func TestLoginErrorMapping(t *testing.T) {
	closed := closedPort(t)
	tlsUp := startUpstream(t, func(s *smtptest.Server) { s.TLS = upstream.Implicit })
	untrusted := tlsUp.Endpoint()
	untrusted.TLSConfig = nil // system roots do not know the test CA
	refusing := startUpstream(t, nil)
	cases := []struct {
		name     string
		auth     *fakeAuth
		reply    string
		result   string
		rejected int
	}{
		{"bad credentials", &fakeAuth{err: fmt.Errorf("x: %w", login.ErrBadCredentials)},
			"535 5.7.8 Authentication credentials invalid\r\n", "bad_credentials", 0},
		{"throttled", &fakeAuth{err: login.ErrThrottled},
			"454 4.7.0 Too many failed logins, try again later\r\n", "throttled", 0},
		{"needs consent", &fakeAuth{err: &login.ConsentError{Account: testUser,
			Message: "Authorise oauthbridge at https://bridge.example/consent?a=alice"}},
			"535 5.7.8 Authorise oauthbridge at https://bridge.example/consent?a=alice\r\n", "needs_consent", 0},
		{"consent text cannot inject lines", &fakeAuth{err: &login.ConsentError{Message: "go\r\n235 2.7.0 ok"}},
			"535 5.7.8 go  235 2.7.0 ok\r\n", "needs_consent", 0},
		{"consent without text", &fakeAuth{err: &login.ConsentError{}},
			"535 5.7.8 Authorisation needed: ask your administrator for the consent link\r\n", "needs_consent", 0},
		{"temporary", &fakeAuth{err: fmt.Errorf("refresh: %w", login.ErrTemporary)},
			"454 4.7.0 Temporary authentication failure, try again later\r\n", "temporary", 0},
		{"no smtp upstream", &fakeAuth{err: login.ErrNoProtocol},
			"454 4.7.0 No mail server configured for sending from this account\r\n", "no_upstream", 0},
		{"unknown error", &fakeAuth{err: errors.New("boom")},
			"454 4.7.0 Internal error, try again later\r\n", "internal_error", 0},
		{"upstream unreachable", &fakeAuth{endpoint: upstream.Endpoint{Addr: closed, TLS: upstream.Plain}},
			"454 4.7.0 Mail server unreachable, try again later\r\n", "upstream_unreachable", 0},
		{"upstream certificate", &fakeAuth{endpoint: untrusted},
			"454 4.7.0 Mail server TLS verification failed, try again later\r\n", "upstream_tls", 0},
		{"upstream refuses every token", &fakeAuth{endpoint: refusing.Endpoint(), tokens: []string{"stale", "also-stale"}},
			"535 5.7.8 Mail server refused the access token: 5.7.8 Authentication failed\r\n", "upstream_refused", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, &Server{Auth: tc.auth})
			c := h.dial()
			c.expect(greeting)
			c.send(ehlo)
			c.expect(ehloPlain)
			c.send("AUTH PLAIN " + plainIR(testUser, testPassword) + "\r\n")
			c.expect(tc.reply)
			c.send("NOOP\r\n")
			c.expect("250 2.0.0 OK\r\n")
			c.conn.Close()
			if r := h.session(0).Result; r != tc.result {
				t.Errorf("result %q, want %q", r, tc.result)
			}
			if n := len(tc.auth.rejectedTokens()); n != tc.rejected {
				t.Errorf("%d tokens reported rejected, want %d", n, tc.rejected)
			}
		})
	}
}

// Upstream refusals reach the user with the server's own words.
func TestUpstreamFailureReplies(t *testing.T) {
	auth := func(reply string) []peerStep {
		return then(peerStep{expect: prefix("AUTH XOAUTH2 "), reply: reply})
	}
	cases := []struct {
		name   string
		steps  []peerStep
		conns  int
		reply  string
		result string
	}{
		{"microsoft tenant disabled", auth("535 " + msTenant + "\r\n"), 2,
			"535 5.7.8 Mail server refused the access token: " + msTenant + "\r\n", "upstream_refused"},
		{"temporary", auth("454 4.7.0 Temporary authentication failure\r\n"), 1,
			"454 4.7.0 Mail server temporarily unavailable: 4.7.0 Temporary authentication failure\r\n", "upstream_unavailable"},
		{"no xoauth2", auth("504 5.7.4 Unrecognized authentication type\r\n"), 1,
			"454 4.7.0 Unexpected reply from mail server: 5.7.4 Unrecognized authentication type\r\n", "upstream_protocol"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := startPeerN(t, tc.steps, false, tc.conns)
			h := newHarness(t, &Server{Auth: &fakeAuth{endpoint: p.endpoint()}})
			c := h.dial()
			c.expect(greeting)
			c.send("EHLO client.example\r\n")
			c.expect(ehloPlain)
			c.send("AUTH PLAIN " + plainIR(testUser, testPassword) + "\r\n")
			c.expect(tc.reply)
			c.conn.Close()
			if r := h.session(0).Result; r != tc.result {
				t.Errorf("result %q, want %q", r, tc.result)
			}
		})
	}
}

// A token the upstream refuses is reported, and the fresh one that the
// authenticator hands out next is used at once.
func TestRefusedTokenRetriedOnce(t *testing.T) {
	up := startUpstream(t, nil)
	auth := &fakeAuth{endpoint: up.Endpoint(), tokens: []string{"revoked-token", testToken}}
	h := newHarness(t, &Server{Auth: auth})
	c := h.dial()
	c.expect(greeting)
	c.send(ehlo)
	c.expect(ehloPlain)
	c.send("AUTH PLAIN " + plainIR(testUser, testPassword) + "\r\n")
	c.expect(authOK)
	c.send("QUIT\r\n")
	c.expectCode("221")
	if got := auth.rejectedTokens(); !slices.Equal(got, []string{"revoked-token"}) {
		t.Errorf("rejected %q", got)
	}
	if auth.callCount() != 2 {
		t.Errorf("%d Authenticate calls", auth.callCount())
	}
}

// After a login the EHLO of later connections advertises the upstream's
// SIZE and the relayed extensions it offers (go-smtp offers CHUNKING).
func TestUpstreamCapabilitiesLearned(t *testing.T) {
	up := startUpstream(t, func(s *smtptest.Server) { s.MaxMessageBytes = 5242880 })
	h := newHarness(t, &Server{Auth: &fakeAuth{endpoint: up.Endpoint()}})
	c := h.dial()
	c.expect(greeting)
	c.send(ehlo)
	c.expect(ehloPlain)
	c.send("AUTH PLAIN " + plainIR(testUser, testPassword) + "\r\n")
	c.expect(authOK)
	c.conn.Close()

	c = h.dial()
	c.expect(greeting)
	c.send(ehlo)
	c.expect("250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n" +
		"250-SIZE 5242880\r\n250-CHUNKING\r\n250 AUTH PLAIN LOGIN\r\n")
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

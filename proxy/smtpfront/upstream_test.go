package smtpfront

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/smtpfront/smtptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// xoIR is the base64 XOAUTH2 initial response for testUser and tok.
func xoIR(tok string) string { return b64("user=" + testUser + "\x01auth=Bearer " + tok + "\x01\x01") }

const (
	peerGreeting = "220 peer.test ESMTP\r\n"
	peerEHLO     = "250-peer.test\r\n250-SIZE 5000\r\n250-8BITMIME\r\n250 AUTH PLAIN XOAUTH2\r\n"
	jsonError    = `{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`
	msTenant     = "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. " +
		"Visit https://aka.ms/smtp_auth_disabled for more information. [AM0PR02CA0001.eurprd02.prod.outlook.com]"
)

var (
	longToken = strings.Repeat("L", 1500)
	toEHLO    = []peerStep{{reply: peerGreeting}, {expect: exact("EHLO client.example"), reply: peerEHLO}}
)

// then appends steps after the greeting and EHLO.
func then(steps ...peerStep) []peerStep { return append(append([]peerStep(nil), toEHLO...), steps...) }

func isBearerIR(line string) bool {
	enc, ok := strings.CutPrefix(line, "AUTH OAUTHBEARER ")
	ir, err := base64.StdEncoding.DecodeString(enc)
	return ok && err == nil &&
		strings.HasPrefix(string(ir), "n,a="+testUser+",\x01host=127.0.0.1\x01port=") &&
		strings.HasSuffix(string(ir), "\x01auth=Bearer "+testToken+"\x01\x01")
}

// One row per upstream behaviour: what the proxy must send, and how it
// must classify the outcome.
func TestUpstreamDialogue(t *testing.T) {
	cases := []struct {
		name    string
		token   string
		mech    string
		tls     bool
		timeout time.Duration
		steps   []peerStep
		err     error  // nil: success
		text    string // server text quoted to the user
		size    int64
	}{
		{name: "initial response", steps: then(
			peerStep{expect: exact("AUTH XOAUTH2 " + xoIR(testToken)), reply: "235 2.7.0 Accepted\r\n"}), size: 5000},
		{name: "multi-line greeting", steps: []peerStep{
			{reply: "220-peer.test ESMTP\r\n220-no UCE\r\n220 ready\r\n"},
			{expect: exact("EHLO client.example"), reply: "250 peer.test\r\n"},
			{expect: prefix("AUTH XOAUTH2 "), reply: "235 2.7.0 Accepted\r\n"}}},
		{name: "long token in two steps", token: longToken, steps: then(
			peerStep{expect: exact("AUTH XOAUTH2"), reply: "334 \r\n"},
			peerStep{expect: exact(xoIR(longToken)), reply: "235 2.7.0 Accepted\r\n"})},
		{name: "json error challenge", steps: then(
			peerStep{expect: prefix("AUTH XOAUTH2 "), reply: "334 " + b64(jsonError) + "\r\n"},
			peerStep{expect: exact(""), reply: "535 5.7.8 Username and Password not accepted.\r\n"}),
			err: upstream.ErrRejected, text: "5.7.8 Username and Password not accepted."},
		{name: "two steps then json error", token: longToken, steps: then(
			peerStep{expect: exact("AUTH XOAUTH2"), reply: "334 \r\n"},
			peerStep{expect: exact(xoIR(longToken)), reply: "334 " + b64(jsonError) + "\r\n"},
			peerStep{expect: exact(""), reply: "535 5.7.8 Authentication failed\r\n"}),
			err: upstream.ErrRejected, text: "5.7.8 Authentication failed"},
		{name: "microsoft tenant disabled", steps: then(
			peerStep{expect: prefix("AUTH XOAUTH2 "), reply: "535 " + msTenant + "\r\n"}),
			err: upstream.ErrRejected, text: msTenant},
		{name: "gmail multi-line 534", steps: then(
			peerStep{expect: prefix("AUTH XOAUTH2 "), reply: "534-5.7.14 Please log in\r\n534 5.7.14 with your web browser\r\n"}),
			err: upstream.ErrRejected, text: "5.7.14 Please log in 5.7.14 with your web browser"},
		{name: "auth temporary failure", steps: then(
			peerStep{expect: prefix("AUTH XOAUTH2 "), reply: "454 4.7.0 Temporary authentication failure\r\n"}),
			err: upstream.ErrUnavailable, text: "4.7.0 Temporary authentication failure"},
		{name: "greeting 421", steps: []peerStep{{reply: "421 4.3.2 Service not available\r\n"}},
			err: upstream.ErrUnavailable, text: "4.3.2 Service not available"},
		{name: "greeting 554", steps: []peerStep{{reply: "554 No SMTP service here\r\n"}},
			err: upstream.ErrProtocol, text: "No SMTP service here"},
		{name: "ehlo refused", steps: []peerStep{{reply: peerGreeting},
			{expect: prefix("EHLO"), reply: "500 5.5.1 What?\r\n"}}, err: upstream.ErrProtocol},
		{name: "mechanism unknown", steps: then(
			peerStep{expect: prefix("AUTH XOAUTH2 "), reply: "504 5.7.4 Unrecognized authentication type\r\n"}),
			err: upstream.ErrProtocol},
		{name: "not smtp", steps: []peerStep{{reply: "* OK IMAP4rev1 ready\r\n"}}, err: upstream.ErrProtocol},
		{name: "mixed codes", steps: []peerStep{{reply: peerGreeting},
			{expect: prefix("EHLO"), reply: "250-peer.test\r\n251 odd\r\n"}}, err: upstream.ErrProtocol},
		{name: "hangs up", steps: []peerStep{{reply: peerGreeting},
			{expect: prefix("EHLO"), hangup: true}}, err: upstream.ErrUnavailable},
		{name: "silent", timeout: 300 * time.Millisecond, steps: nil, err: upstream.ErrUnreachable},
		{name: "too many challenges", steps: then(
			peerStep{expect: prefix("AUTH"), reply: "334 \r\n"}, peerStep{expect: prefix(""), reply: "334 \r\n"},
			peerStep{expect: prefix(""), reply: "334 \r\n"}, peerStep{expect: prefix(""), reply: "334 \r\n"}),
			err: upstream.ErrProtocol},
		{name: "challenge not base64", steps: then(
			peerStep{expect: prefix("AUTH"), reply: "334 !!!\r\n"}), err: upstream.ErrProtocol},
		{name: "oauthbearer", mech: "OAUTHBEARER", steps: then(
			peerStep{expect: isBearerIR, reply: "235 2.7.0 Accepted\r\n"})},
		{name: "oauthbearer error challenge", mech: "OAUTHBEARER", steps: then(
			peerStep{expect: isBearerIR, reply: "334 " + b64(`{"status":"invalid_token"}`) + "\r\n"},
			peerStep{expect: exact("AQ=="), reply: "535 5.7.8 Authentication failed\r\n"}),
			err: upstream.ErrRejected},
		{name: "starttls", tls: true, size: 777, steps: []peerStep{{reply: peerGreeting},
			{expect: exact("EHLO client.example"), reply: "250-peer.test\r\n250 STARTTLS\r\n"},
			{expect: exact("STARTTLS"), reply: "220 2.0.0 Ready\r\n", upgrade: true},
			{expect: exact("EHLO client.example"), reply: "250-peer.test\r\n250-SIZE 777\r\n250 AUTH XOAUTH2\r\n"},
			{expect: prefix("AUTH XOAUTH2 "), reply: "235 2.7.0 Accepted\r\n"}}},
		{name: "starttls refused", tls: true, steps: then(
			peerStep{expect: exact("STARTTLS"), reply: "502 5.5.1 Not here\r\n"}), err: upstream.ErrTLS},
		{name: "starttls with injected reply", tls: true, steps: then(
			peerStep{expect: exact("STARTTLS"), reply: "220 2.0.0 Ready\r\n250 injected\r\n"}), err: upstream.ErrProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := testToken
			if tc.token != "" {
				tok = tc.token
			}
			p := startPeer(t, tc.steps, tc.tls)
			g := &login.Grant{Account: testUser, AccessToken: tok, Mechanism: tc.mech, Upstream: p.endpoint()}
			timeout := 5 * time.Second
			if tc.timeout > 0 {
				timeout = tc.timeout
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			up, err := dialUpstream(ctx, g, "client.example")
			if up != nil {
				up.conn.Close()
			}
			p.wait()
			checkUpstreamResult(t, up, err, tc.err, tc.text, tc.size, tok)
		})
	}
}

func checkUpstreamResult(t *testing.T, up *upConn, err, want error, text string, size int64, tok string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		if size != 0 && up.caps.size != size {
			t.Errorf("size %d, want %d", up.caps.size, size)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	if text != "" && serverSaid(err) != ": "+text {
		t.Errorf("server text %q, want %q", serverSaid(err), text)
	}
	if strings.Contains(err.Error(), tok) {
		t.Errorf("token in error: %v", err)
	}
}

// An endpoint without a TLS mode is refused rather than dialled in clear.
func TestUpstreamWithoutTLSMode(t *testing.T) {
	g := &login.Grant{Account: testUser, AccessToken: testToken, Upstream: upstream.Endpoint{Addr: closedPort(t)}}
	if _, err := dialUpstream(context.Background(), g, "client.example"); !errors.Is(err, upstream.ErrTLS) {
		t.Fatalf("error %v, want ErrTLS", err)
	}
}

func TestAuthCommandLength(t *testing.T) {
	line, pending := authCommand("XOAUTH2", []byte(strings.Repeat("x", 300)))
	if len(line) > maxAuthLine || pending != nil {
		t.Errorf("300-byte response: line %d bytes, pending %v", len(line), pending != nil)
	}
	line, pending = authCommand("XOAUTH2", []byte(strings.Repeat("x", 400)))
	if line != "AUTH XOAUTH2" || len(pending) != 400 {
		t.Errorf("400-byte response: line %q, pending %d", line, len(pending))
	}
	if line, _ = authCommand("X", []byte{}); line != "AUTH X =" {
		t.Errorf("empty response: %q", line)
	}
}

// The login against a real go-smtp server in every TLS mode and with both
// mechanisms; a long token must take the two-step form on a server that
// refuses long command lines.
func TestUpstreamAgainstGoSMTP(t *testing.T) {
	cases := []struct {
		name    string
		mode    upstream.TLSMode
		mech    string
		token   string
		err     error
		oneLine bool // the AUTH command carried the initial response
	}{
		{"plain xoauth2", upstream.Plain, "", testToken, nil, true},
		{"starttls xoauth2", upstream.StartTLS, "", testToken, nil, true},
		{"implicit xoauth2", upstream.Implicit, "", testToken, nil, true},
		{"implicit oauthbearer", upstream.Implicit, "OAUTHBEARER", testToken, nil, true},
		{"long token", upstream.Implicit, "", longToken, nil, false},
		{"refused token", upstream.Implicit, "", "wrong", upstream.ErrRejected, true},
		{"refused oauthbearer token", upstream.Implicit, "OAUTHBEARER", "wrong", upstream.ErrRejected, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := startUpstream(t, func(s *smtptest.Server) {
				s.TLS, s.MaxCommandLine = tc.mode, 1000
				s.Mechanisms = []string{"XOAUTH2", "OAUTHBEARER"}
			}, longToken)
			g := &login.Grant{Account: testUser, AccessToken: tc.token, Mechanism: tc.mech, Upstream: up.Endpoint()}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			u, err := dialUpstream(ctx, g, "client.example")
			if u != nil {
				u.conn.Close()
			}
			checkUpstreamResult(t, u, err, tc.err, "", 64<<20, tc.token)
			if tc.mode == upstream.StartTLS {
				return // smtptest cannot see AUTH lines under STARTTLS
			}
			cmds := up.AuthCommands()
			if len(cmds) != 1 || cmds[0].InitialResponse != tc.oneLine || cmds[0].Len > maxAuthLine {
				t.Errorf("AUTH commands seen: %+v", cmds)
			}
		})
	}
}

package pop3front

import (
	"testing"

	"github.com/oauthbridge/oauthbridge/proxy/pop3front/pop3test"
)

// loginServer returns a front end whose grants point at a fresh pop3test.
func loginServer(t *testing.T) (*Server, *fakeAuth) {
	up := startPOP3(t, nil)
	auth := &fakeAuth{upstream: plainEndpoint(up.Addr())}
	return &Server{Auth: auth}, auth
}

// afterLogin is what every successful login form ends with: our +OK, then
// the upstream answers STAT (the relay is running), then QUIT.
var afterLogin = []step{
	{"STAT\r\n", "+OK 1 5\r\n"},
	{"QUIT\r\n", "+OK Bye\r\n"},
}

func TestLoginForms(t *testing.T) {
	plain := b64("\x00" + testUser + "\x00" + testPassword)
	forms := map[string][]step{
		"USER/PASS": {
			{"USER " + testUser + "\r\n", "+OK Send PASS\r\n"},
			{"PASS " + testPassword + "\r\n", "+OK Logged in\r\n"},
		},
		"lower case": {
			{"user " + testUser + "\r\n", "+OK Send PASS\r\n"},
			{"pass " + testPassword + "\r\n", "+OK Logged in\r\n"},
		},
		"AUTH PLAIN with initial response": {
			{"AUTH PLAIN " + plain + "\r\n", "+OK Logged in\r\n"},
		},
		"AUTH PLAIN with continuation": {
			{"AUTH PLAIN\r\n", "+ \r\n"},
			{plain + "\r\n", "+OK Logged in\r\n"},
		},
		"AUTH PLAIN with authzid equal to user": {
			{"auth plain " + b64(testUser+"\x00"+testUser+"\x00"+testPassword) + "\r\n", "+OK Logged in\r\n"},
		},
		"AUTH LOGIN with continuation": {
			{"AUTH LOGIN\r\n", "+ VXNlcm5hbWU6\r\n"},
			{b64(testUser) + "\r\n", "+ UGFzc3dvcmQ6\r\n"},
			{b64(testPassword) + "\r\n", "+OK Logged in\r\n"},
		},
		"AUTH LOGIN with initial response": {
			{"AUTH LOGIN " + b64(testUser) + "\r\n", "+ UGFzc3dvcmQ6\r\n"},
			{b64(testPassword) + "\r\n", "+OK Logged in\r\n"},
		},
		"after a failed attempt": {
			{"AUTH PLAIN " + b64("\x00"+testUser+"\x00nope") + "\r\n", "-ERR [AUTH] Invalid user name or password\r\n"},
			{"USER " + testUser + "\r\n", "+OK Send PASS\r\n"},
			{"PASS " + testPassword + "\r\n", "+OK Logged in\r\n"},
		},
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			srv, _ := loginServer(t)
			log, logs := newLogger()
			srv.Log = log
			steps := append([]step{{"", greeting}}, form...)
			sess := transcript(t, srv, append(steps, afterLogin...), true)
			if sess.Result != "ok" || sess.Account != testUser {
				t.Errorf("result %q account %q", sess.Result, sess.Account)
			}
			if sess.BytesIn.Load() != int64(len("STAT\r\nQUIT\r\n")) {
				t.Errorf("bytes in %d", sess.BytesIn.Load())
			}
			assertNoSecrets(t, logs)
		})
	}
}

// RFC 2449 PIPELINING: a client may send USER, PASS and the first
// TRANSACTION command in one write. STAT is read ahead with PASS and must
// still reach the upstream after login.
func TestPipelinedLogin(t *testing.T) {
	srv, _ := loginServer(t)
	transcript(t, srv, []step{
		{"", greeting},
		{"USER " + testUser + "\r\nPASS " + testPassword + "\r\nSTAT\r\nQUIT\r\n",
			"+OK Send PASS\r\n+OK Logged in\r\n+OK 1 5\r\n+OK Bye\r\n"},
	}, true)
}

// An access token the upstream refuses is reported to the Authenticator
// and a second grant is tried; when that is refused too, the user is told.
func TestRejectedTokenRetried(t *testing.T) {
	srv, auth := loginServer(t)
	auth.tokens = []string{badToken, goodToken}
	transcript(t, srv, append([]step{
		{"", greeting},
		{"AUTH PLAIN " + b64("\x00"+testUser+"\x00"+testPassword) + "\r\n", "+OK Logged in\r\n"},
	}, afterLogin...), true)
	if len(auth.rejected) != 1 || auth.rejected[0] != badToken || auth.calls != 2 {
		t.Errorf("rejected %q after %d calls", auth.rejected, auth.calls)
	}
}

func TestRejectedTwice(t *testing.T) {
	srv, auth := loginServer(t)
	auth.tokens = []string{badToken}
	log, logs := newLogger()
	srv.Log = log
	sess := transcript(t, srv, []step{
		{"", greeting},
		{"USER " + testUser + "\r\n", "+OK Send PASS\r\n"},
		{"PASS " + testPassword + "\r\n", "-ERR [AUTH] Mail server refused the access token; " +
			"authorise oauthbridge again or ask the administrator\r\n"},
		{"QUIT\r\n", bye},
	}, false)
	if len(auth.rejected) != 2 || auth.calls != 2 || sess.Result != "upstream_refused" {
		t.Errorf("rejected %d times after %d calls, result %q", len(auth.rejected), auth.calls, sess.Result)
	}
	assertNoSecrets(t, logs)
}

// The upstream's failures map to [SYS/TEMP] replies that name the problem.
func TestUpstreamFailureMapping(t *testing.T) {
	tlsCfg, _ := selfSigned(t)
	untrusted := startPOP3(t, func(s *pop3test.Server) { s.TLSConfig, s.Implicit = tlsCfg, true })
	refusesStyle := startPOP3(t, func(s *pop3test.Server) { s.Style = pop3test.StyleContinuation })
	throttles, _ := scriptedPeer(t, []peerStep{{"", "+OK\r\n"}, {"CAPA", capaXO}, {"AUTH XOAUTH2 " + xo(goodToken),
		"-ERR [SYS/TEMP] Request is throttled. Suggested Backoff Time: 2000 milliseconds\r\n"}})
	cases := []struct {
		name, reply, result string
		auth                *fakeAuth
		style               IRStyle
	}{
		{"unreachable", "-ERR [SYS/TEMP] The mail server could not be reached; try again later\r\n",
			"upstream_unreachable", &fakeAuth{upstream: plainEndpoint(closedPort(t))}, ""},
		{"tls", "-ERR [SYS/TEMP] The mail server's TLS certificate could not be verified; tell the administrator\r\n",
			"upstream_tls", &fakeAuth{upstream: implicitEndpoint(untrusted.Addr(), nil)}, ""},
		{"odd reply", "-ERR [SYS/TEMP] The mail server refused the login; tell the administrator " +
			"(mail server said: Send AUTH without an initial response)\r\n",
			"upstream_protocol", &fakeAuth{upstream: plainEndpoint(refusesStyle.Addr())}, IRInitialResponse},
		{"throttled", "-ERR [SYS/TEMP] The mail server is temporarily unavailable; try again later " +
			"(mail server said: Request is throttled. Suggested Backoff Time: 2000 milliseconds)\r\n",
			"upstream_unavailable", &fakeAuth{upstream: plainEndpoint(throttles)}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := &Server{Auth: tc.auth, IRStyle: tc.style}
			sess := transcript(t, srv, []step{
				{"", greeting},
				{"USER " + testUser + "\r\n", "+OK Send PASS\r\n"},
				{"PASS " + testPassword + "\r\n", tc.reply},
			}, true)
			if sess.Result != tc.result {
				t.Errorf("result %q, want %q", sess.Result, tc.result)
			}
		})
	}
}

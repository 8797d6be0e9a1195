package pop3front

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/login"
)

const (
	greeting = "+OK oauthbridge ready\r\n"
	capaFull = "+OK Capability list follows\r\nUSER\r\nSASL PLAIN LOGIN\r\n" +
		"PIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nIMPLEMENTATION oauthbridge\r\n.\r\n"
	bye = "+OK oauthbridge closing connection\r\n"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// newServer returns a front end whose Authenticator fails every login
// that reaches an upstream (there is none).
func newServer() *Server {
	return &Server{Auth: &fakeAuth{upstream: plainEndpoint("127.0.0.1:1")}}
}

func TestGreetingCapaQuit(t *testing.T) {
	sess := transcript(t, newServer(), []step{
		{"", greeting},
		{"CAPA\r\n", capaFull},
		{"capa\r\n", capaFull},
		{"QUIT\r\n", bye},
	}, false)
	if sess.Result != "quit" {
		t.Errorf("result %q, want quit", sess.Result)
	}
}

func TestRefusedBeforeLogin(t *testing.T) {
	transcript(t, newServer(), []step{
		{"", greeting},
		{"APOP alice 0123456789abcdef0123456789abcdef\r\n", "-ERR APOP is not supported; use USER/PASS or AUTH\r\n"},
		{"XYZZY\r\n", "-ERR Unknown command\r\n"},
		{"STAT\r\n", "-ERR Not logged in; log in with USER and PASS or AUTH first\r\n"},
		{"retr 1\r\n", "-ERR Not logged in; log in with USER and PASS or AUTH first\r\n"},
		{"\r\n", "-ERR Empty command\r\n"},
		{"US\x00ER x\r\n", "-ERR Control characters are not allowed in commands\r\n"},
		{"[CAPA]\r\n", "-ERR Malformed command\r\n"},
		{"PASS secret\r\n", "-ERR Send USER first\r\n"},
		{"USER\r\n", "-ERR Missing user name\r\n"},
		{"STLS\r\n", "-ERR STLS is not available on this port\r\n"},
		{"quit\r\n", bye},
	}, false)
}

func TestAuthWithoutArgumentListsMechanisms(t *testing.T) {
	transcript(t, newServer(), []step{
		{"", greeting},
		{"AUTH\r\n", "+OK Supported mechanisms follow\r\nPLAIN\r\nLOGIN\r\n.\r\n"},
		{"AUTH CRAM-MD5\r\n", "-ERR Unsupported authentication mechanism; use PLAIN or LOGIN\r\n"},
		{"AUTH PLAIN a b\r\n", "-ERR Syntax: AUTH mechanism [initial-response]\r\n"},
		{"QUIT\r\n", bye},
	}, false)
}

func TestAuthCancelAndBadBase64(t *testing.T) {
	transcript(t, newServer(), []step{
		{"", greeting},
		{"AUTH PLAIN\r\n", "+ \r\n"},
		{"*\r\n", "-ERR Authentication canceled\r\n"},
		{"AUTH LOGIN\r\n", "+ VXNlcm5hbWU6\r\n"},
		{b64(testUser) + "\r\n", "+ UGFzc3dvcmQ6\r\n"},
		{"*\r\n", "-ERR Authentication canceled\r\n"},
		{"AUTH PLAIN\r\n", "+ \r\n"},
		{"not base64!\r\n", "-ERR Invalid base64 in authentication data\r\n"},
		{"AUTH PLAIN %%%\r\n", "-ERR Invalid base64 in authentication data\r\n"},
		{"AUTH PLAIN " + b64("no nul bytes") + "\r\n", "-ERR Malformed authentication data\r\n"},
		{"AUTH PLAIN " + b64("bob\x00"+testUser+"\x00x") + "\r\n",
			"-ERR [AUTH] Authorization identity must be empty or equal the user name\r\n"},
		{"QUIT\r\n", bye},
	}, false)
}

func TestOversizeLine(t *testing.T) {
	srv := newServer()
	srv.MaxLine = 100
	transcript(t, srv, []step{
		{"", greeting},
		{"USER " + strings.Repeat("a", 200) + "\r\n", "-ERR Line too long\r\n"},
		{"CAPA\r\n", capaFull},
		{"USER " + strings.Repeat("a", 70*1024) + "\r\n", "-ERR Line too long, closing connection\r\n"},
	}, false)
}

func TestTooManyCommands(t *testing.T) {
	srv := newServer()
	srv.MaxCommands = 3
	sess := transcript(t, srv, []step{
		{"", greeting},
		{"CAPA\r\n", capaFull},
		{"NOOP\r\n", "-ERR Not logged in; log in with USER and PASS or AUTH first\r\n"},
		{"USER x\r\n", "+OK Send PASS\r\n"},
		{"PASS y\r\n", "-ERR Too many commands before login, closing connection\r\n"},
	}, false)
	if sess.Result != "too_many_commands" {
		t.Errorf("result %q", sess.Result)
	}
}

func TestLoginTimeout(t *testing.T) {
	srv := newServer()
	srv.LoginTimeout = 200 * time.Millisecond
	sess := transcript(t, srv, []step{
		{"", greeting},
		{"", "-ERR Disconnected for inactivity\r\n"},
	}, false)
	if sess.Result != "timeout" {
		t.Errorf("result %q, want timeout", sess.Result)
	}
}

func TestRequireTLSRefusesPasswords(t *testing.T) {
	srv := newServer()
	srv.RequireTLS = true
	srv.TLSConfig, _ = selfSigned(t)
	need := "-ERR [SYS/PERM] TLS required: use STLS before logging in\r\n"
	transcript(t, srv, []step{
		{"", greeting},
		{"CAPA\r\n", "+OK Capability list follows\r\nSTLS\r\nPIPELINING\r\nRESP-CODES\r\n" +
			"AUTH-RESP-CODE\r\nIMPLEMENTATION oauthbridge\r\n.\r\n"},
		{"USER " + testUser + "\r\n", need},
		{"PASS " + testPassword + "\r\n", need},
		{"AUTH PLAIN\r\n", need},
		{"AUTH\r\n", need},
		{"QUIT\r\n", bye},
	}, false)
}

func TestUserHint(t *testing.T) {
	srv := newServer()
	srv.Hint = func(string) string { return "Accounts here use OAuth;\r\nsee https://bridge.example/help" }
	transcript(t, srv, []step{
		{"", greeting},
		{"USER someone\r\n", "+OK Send PASS. Accounts here use OAuth;  see https://bridge.example/help\r\n"},
		{"QUIT\r\n", bye},
	}, false)
}

// A wrong password and an unknown user must be indistinguishable, in
// every login form.
func TestWrongPasswordAndUnknownUserIdentical(t *testing.T) {
	for _, user := range []string{testUser, "nobody@example.com"} {
		transcript(t, newServer(), []step{
			{"", greeting},
			{"USER " + user + "\r\n", "+OK Send PASS\r\n"},
			{"PASS wrong\r\n", "-ERR [AUTH] Invalid user name or password\r\n"},
			{"AUTH PLAIN " + b64("\x00"+user+"\x00wrong") + "\r\n", "-ERR [AUTH] Invalid user name or password\r\n"},
			{"QUIT\r\n", bye},
		}, false)
	}
}

// Each error from the Authenticator has its reply (RFC 3206 codes) and
// recorded result; the reply to PASS carries the consent text, since
// that is the login form whose errors Thunderbird does not show after
// USER/PASS - the text at least reaches logs and other clients.
func TestAuthenticatorErrorMapping(t *testing.T) {
	consent := &login.ConsentError{Account: testUser, URL: "https://bridge.example/c/1",
		Message: "Authorise this account: https://bridge.example/c/1\r\nthen log in again"}
	cases := []struct {
		err    error
		reply  string
		result string
	}{
		{login.ErrBadCredentials, "-ERR [AUTH] Invalid user name or password\r\n", "bad_credentials"},
		{login.ErrThrottled, "-ERR [SYS/TEMP] Too many failed logins; try again later\r\n", "throttled"},
		{consent, "-ERR [AUTH] Authorise this account: https://bridge.example/c/1  then log in again\r\n", "needs_consent"},
		{login.ErrTemporary, "-ERR [SYS/TEMP] The identity provider could not be reached; try again later\r\n", "temporary"},
		{login.ErrNoProtocol, "-ERR [SYS/PERM] POP3 is not available for this account\r\n", "no_upstream"},
		{errString("boom"), "-ERR [SYS/TEMP] Internal error; try again later\r\n", "internal_error"},
	}
	for _, tc := range cases {
		t.Run(tc.result+"/"+tc.err.Error()[:4], func(t *testing.T) {
			srv := newServer()
			srv.Auth.(*fakeAuth).errs = map[string]error{testUser: tc.err}
			sess := transcript(t, srv, []step{
				{"", greeting},
				{"USER " + testUser + "\r\n", "+OK Send PASS\r\n"},
				{"PASS " + testPassword + "\r\n", tc.reply},
				{"AUTH LOGIN " + b64(testUser) + "\r\n", "+ UGFzc3dvcmQ6\r\n"},
				{b64(testPassword) + "\r\n", tc.reply},
			}, true)
			if sess.Result != tc.result || sess.Account != testUser {
				t.Errorf("result %q account %q, want %q", sess.Result, sess.Account, tc.result)
			}
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

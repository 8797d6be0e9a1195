package securitytest

import (
	"encoding/base64"
	"strings"
	"testing"
)

// secrets lists every secret the run handled, in every form a careless
// log line could show it: as is, in a SASL PLAIN response, and in the
// XOAUTH2 string sent upstream.
func (s *stack) secrets(passwords ...string) []string {
	var out []string
	for _, p := range passwords {
		out = append(out, p, plainIR(alice, p))
	}
	for _, tok := range s.idp.Secrets() { // client secret and every token issued
		out = append(out, tok,
			base64.StdEncoding.EncodeToString([]byte("user="+alice+"\x01auth=Bearer "+tok+"\x01\x01")))
	}
	return out
}

// A whole session per protocol at debug level: a wrong password, a login
// whose access token the upstream refuses (so the broker refreshes with
// the refresh token), and a session that reads or sends mail. No log line
// and no audit line may hold any secret in any form.
func TestNoSecretInDebugLogs(t *testing.T) {
	s := newStack(t, options{})
	s.authorize(t, alice, password)
	for _, fe := range frontEnds {
		t.Run(fe.name, func(t *testing.T) {
			if a := fe.login(s.dial(t, fe), alice, "wrong-"+password); okLogin(a) {
				t.Fatalf("wrong password accepted: %q", a)
			}
			s.idp.Expire(alice) // the stored access token is refused upstream
			c := s.dial(t, fe)
			if a := fe.login(c, alice, password); !okLogin(a) {
				t.Fatalf("login: %q", a)
			}
			fe.session(t, c)
		})
	}
	if s.idp.RefreshRequests() < len(frontEnds) {
		t.Fatalf("%d refreshes: the refresh path was not exercised", s.idp.RefreshRequests())
	}
	logs, audit := s.logs.String(), s.audit.String()
	if !strings.Contains(logs, `"level":"debug"`) || !strings.Contains(audit, `"result":"ok"`) {
		t.Fatal("no debug lines or no audit lines: the test checks nothing")
	}
	for _, secret := range s.secrets(password, "wrong-"+password) {
		for name, text := range map[string]string{"log": logs, "audit": audit} {
			if strings.Contains(text, secret) {
				i := strings.Index(text, secret)
				line := text[strings.LastIndex(text[:i], "\n")+1:]
				line, _, _ = strings.Cut(line, "\n")
				t.Errorf("secret %.4s... in the %s:\n%s", secret, name, strings.ReplaceAll(line, secret, "<SECRET>"))
			}
		}
	}
	t.Logf("%d log bytes and %d audit bytes checked against %d secret forms", len(logs), len(audit), len(s.secrets(password)))
}

package securitytest

import (
	"strings"
	"testing"
)

// An upstream whose certificate does not verify is never logged in to:
// every front end answers with a temporary TLS failure (not "wrong
// password", which would make clients ask for a new one), and the log
// names the server that failed verification.
func TestUntrustedUpstreamIsRefusedAndNamed(t *testing.T) {
	s := newStack(t, options{untrusted: true})
	s.authorize(t, alice, password)
	addrs := map[string]string{"imap": s.imap.Addr, "pop3": s.pop3.Addr(), "smtp": s.smtp.Addr}
	for _, fe := range frontEnds {
		t.Run(fe.name, func(t *testing.T) {
			a := fe.login(s.dial(t, fe), alice, password)
			if okLogin(a) || !strings.Contains(a, "TLS") {
				t.Fatalf("answer %q, want a TLS failure", a)
			}
			t.Logf("client sees %q", a)
			if !strings.Contains(s.logs.String(), "tls "+addrs[fe.name]+": mail server TLS verification failed") {
				t.Fatalf("no log line names %s as failing TLS verification", addrs[fe.name])
			}
		})
	}
	if n := s.imap.Logins() + s.smtp.Logins(); n != 0 {
		t.Fatalf("%d logins reached an unverified server", n)
	}
}

package securitytest

import "testing"

// A wrong password for an existing account and any password for an
// unknown user get the same answer, byte for byte, on every protocol.
// (That they also take the same time is checked in proxy/login with the
// production KDF.)
func TestUnknownUserAndWrongPasswordGetTheSameAnswer(t *testing.T) {
	s := newStack(t, options{})
	s.authorize(t, alice, password)
	for _, fe := range frontEnds {
		t.Run(fe.name, func(t *testing.T) {
			wrong := fe.login(s.dial(t, fe), alice, "not-the-password")
			unknown := fe.login(s.dial(t, fe), "mallory@elsewhere.test", "not-the-password")
			if wrong != unknown {
				t.Fatalf("answers differ:\nwrong password: %q\nunknown user:   %q", wrong, unknown)
			}
			if okLogin(wrong) {
				t.Fatalf("wrong password accepted: %q", wrong)
			}
			t.Logf("both get %q", wrong)
			if right := fe.login(s.dial(t, fe), alice, password); !okLogin(right) {
				t.Fatalf("right password refused: %q", right)
			}
		})
	}
}

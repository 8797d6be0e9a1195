package saslmech

import (
	"encoding/base64"
	"errors"
	"testing"
)

func TestXOAuth2InitialResponse(t *testing.T) {
	c := NewXOAuth2Client("alice@example.test", "ya29.tok")
	mech, ir, err := c.Start()
	if err != nil || mech != "XOAUTH2" {
		t.Fatalf("Start = %q, %v", mech, err)
	}
	if want := "user=alice@example.test\x01auth=Bearer ya29.tok\x01\x01"; string(ir) != want {
		t.Fatalf("ir = %q, want %q", ir, want)
	}
}

func TestXOAuth2ErrorChallengeIsAnsweredEmpty(t *testing.T) {
	c := NewXOAuth2Client("u", "t")
	resp, err := c.Next([]byte(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`))
	if err != nil || resp == nil || len(resp) != 0 {
		t.Fatalf("Next = %q, %v; want an empty, non-nil response", resp, err)
	}
	if c.Failure == nil || c.Failure.Status != "401" || c.Failure.Scope != "https://mail.google.com/" {
		t.Fatalf("Failure = %+v", c.Failure)
	}
	if got := c.Failure.Error(); got != "token refused (status 401, scope https://mail.google.com/)" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestXOAuth2EmptyChallengeSendsCredentials(t *testing.T) {
	c := NewXOAuth2Client("u", "t")
	resp, err := c.Next(nil)
	if err != nil || string(resp) != "user=u\x01auth=Bearer t\x01\x01" {
		t.Fatalf("Next(empty) = %q, %v", resp, err)
	}
}

func TestXOAuth2GarbageChallenge(t *testing.T) {
	if _, err := NewXOAuth2Client("u", "t").Next([]byte("not json")); err == nil {
		t.Fatal("garbage challenge accepted")
	}
}

// scripted is an Exchange that answers challenges from a list.
type scripted struct {
	answers    []string
	challenges []string
}

func (s *scripted) Challenge(enc string) error { s.challenges = append(s.challenges, enc); return nil }
func (s *scripted) Response() (string, error) {
	if len(s.answers) == 0 {
		return "", errors.New("script exhausted")
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a, nil
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestCollect(t *testing.T) {
	tests := []struct {
		name       string
		mech       string
		ir         []byte
		answers    []string
		challenges []string
		user, pass string
		err        error
	}{
		{name: "plain with initial response", mech: "PLAIN", ir: []byte("\x00alice\x00pw"), user: "alice", pass: "pw"},
		{name: "plain lower case, authzid equal", mech: "plain", ir: []byte("alice\x00alice\x00pw"), user: "alice", pass: "pw"},
		{name: "plain by continuation", mech: "PLAIN", answers: []string{b64("\x00bob\x00s e c")}, challenges: []string{""}, user: "bob", pass: "s e c"},
		{name: "plain foreign authzid", mech: "PLAIN", ir: []byte("admin\x00alice\x00pw"), err: ErrBadAuthzid},
		{name: "plain malformed", mech: "PLAIN", ir: []byte("no nuls"), err: ErrMalformed},
		{name: "plain cancel", mech: "PLAIN", answers: []string{"*"}, challenges: []string{""}, err: ErrCanceled},
		{name: "plain bad base64", mech: "PLAIN", answers: []string{"!!!"}, challenges: []string{""}, err: ErrBadBase64},
		{name: "login two steps", mech: "LOGIN", answers: []string{b64("carol"), b64("pässword")},
			challenges: []string{b64("Username:"), b64("Password:")}, user: "carol", pass: "pässword"},
		{name: "login with initial response", mech: "LOGIN", ir: []byte("dave"), answers: []string{b64("pw")},
			challenges: []string{b64("Password:")}, user: "dave", pass: "pw"},
		{name: "login cancel at password", mech: "LOGIN", answers: []string{b64("erin"), "*"}, err: ErrCanceled},
		{name: "unsupported", mech: "CRAM-MD5", err: ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := &scripted{answers: tt.answers}
			creds, err := Collect(tt.mech, tt.ir, ex)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if creds.Username != tt.user || creds.Password != tt.pass {
				t.Fatalf("creds = %q/%q", creds.Username, creds.Password)
			}
			if tt.challenges != nil && len(ex.challenges) != len(tt.challenges) {
				t.Fatalf("challenges %q, want %q", ex.challenges, tt.challenges)
			}
			for i, c := range tt.challenges {
				if ex.challenges[i] != c {
					t.Fatalf("challenge %d = %q, want %q", i, ex.challenges[i], c)
				}
			}
		})
	}
}

func TestDecodeResponse(t *testing.T) {
	if b, err := DecodeResponse("="); err != nil || b == nil || len(b) != 0 {
		t.Fatalf(`"=" -> %q, %v`, b, err)
	}
	if _, err := DecodeResponse("*"); !errors.Is(err, ErrCanceled) {
		t.Fatalf(`"*" -> %v`, err)
	}
	if b, err := DecodeResponse(b64("x")); err != nil || string(b) != "x" {
		t.Fatalf("valid -> %q, %v", b, err)
	}
}

func FuzzCollect(f *testing.F) {
	f.Add("PLAIN", []byte("\x00u\x00p"), "")
	f.Add("LOGIN", []byte(nil), b64("u"))
	f.Add("login", []byte("u"), "*")
	f.Fuzz(func(t *testing.T, mech string, ir []byte, answer string) {
		ex := &scripted{answers: []string{answer, answer, answer}}
		creds, err := Collect(mech, ir, ex)
		if err == nil && creds == nil {
			t.Fatal("nil credentials without error")
		}
	})
}

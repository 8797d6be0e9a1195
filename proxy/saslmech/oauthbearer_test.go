package saslmech

import (
	"bytes"
	"testing"
)

func TestOAuthBearerInitialResponse(t *testing.T) {
	mech, ir, err := NewOAuthBearerClient("alice@example.test", "ya29.tok", "imap.example.test:993").Start()
	if err != nil || mech != "OAUTHBEARER" {
		t.Fatalf("Start = %q, %v", mech, err)
	}
	want := "n,a=alice@example.test,\x01host=imap.example.test\x01port=993\x01auth=Bearer ya29.tok\x01\x01"
	if string(ir) != want {
		t.Fatalf("ir = %q, want %q", ir, want)
	}
	_, ir, _ = NewOAuthBearerClient("u", "t", "no-port").Start()
	if want := "n,a=u,\x01auth=Bearer t\x01\x01"; string(ir) != want {
		t.Fatalf("ir without a port = %q, want %q", ir, want)
	}
}

// RFC 7628 section 3.2.3: the error challenge is answered with %x01 so
// that the server can send its final failure.
func TestOAuthBearerErrorChallengeIsAnsweredWithOne(t *testing.T) {
	c := NewOAuthBearerClient("u", "t", "h:1")
	resp, err := c.Next([]byte(`{"status":"invalid_token","scope":"https://mail.google.com/"}`))
	if err != nil || !bytes.Equal(resp, []byte{0x01}) {
		t.Fatalf("Next = %q, %v; want %%x01", resp, err)
	}
	if c.Failure == nil || c.Failure.Status != "invalid_token" || c.Failure.Scope != "https://mail.google.com/" {
		t.Fatalf("Failure = %+v", c.Failure)
	}
}

func TestOAuthBearerEmptyChallengeSendsCredentials(t *testing.T) {
	c := NewOAuthBearerClient("u", "t", "h:1")
	_, ir, _ := c.Start()
	if resp, err := c.Next(nil); err != nil || !bytes.Equal(resp, ir) {
		t.Fatalf("Next(empty) = %q, %v", resp, err)
	}
}

func TestOAuthBearerGarbageChallenge(t *testing.T) {
	c := NewOAuthBearerClient("u", "t", "h:1")
	if _, err := c.Next([]byte("not json")); err == nil || c.Failure != nil {
		t.Fatalf("garbage challenge: err = %v, Failure = %+v", err, c.Failure)
	}
}

// FuzzTokenChallenge feeds server challenges (untrusted) to both token
// clients: they answer or refuse, never panic, and never put the token
// into an error.
func FuzzTokenChallenge(f *testing.F) {
	f.Add([]byte(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`))
	f.Add([]byte(`{"status":"invalid_token","scope":"x","openid-configuration":"https://x/.well-known"}`))
	f.Add([]byte(""))
	f.Add([]byte("not json"))
	f.Fuzz(func(t *testing.T, challenge []byte) {
		const token = "secret-token-value"
		for _, c := range []interface {
			Next([]byte) ([]byte, error)
		}{NewXOAuth2Client("u", token), NewOAuthBearerClient("u", token, "h:1")} {
			if _, err := c.Next(challenge); err != nil && bytes.Contains([]byte(err.Error()), []byte(token)) {
				t.Fatalf("error names the token: %v", err)
			}
		}
	})
}

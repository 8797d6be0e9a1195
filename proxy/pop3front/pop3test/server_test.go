package pop3test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"testing"
	"time"
)

func TestWriteDotStuffed(t *testing.T) {
	cases := map[string]string{
		"a\r\n.\r\n..b\r\nc\r\n": "a\r\n..\r\n...b\r\nc\r\n.\r\n",
		".start\r\nno newline":   "..start\r\nno newline\r\n.\r\n",
		"":                       ".\r\n",
	}
	for in, want := range cases {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		if err := writeDotStuffed(w, []byte(in)); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		if b.String() != want {
			t.Errorf("%q: got %q, want %q", in, b.String(), want)
		}
	}
}

func TestParseCredentials(t *testing.T) {
	cases := []struct {
		mech, raw, user, token string
		ok                     bool
	}{
		{"XOAUTH2", "user=a@b\x01auth=Bearer T\x01\x01", "a@b", "T", true},
		{"OAUTHBEARER", "n,a=a@b,\x01host=h\x01port=1\x01auth=Bearer T\x01\x01", "a@b", "T", true},
		{"XOAUTH2", "user=a@b\x01auth=Bearer T", "", "", false},
		{"OAUTHBEARER", "y,,\x01auth=Bearer T\x01\x01", "", "", false},
		{"XOAUTH2", "\x01\x01", "", "", false},
	}
	for _, tc := range cases {
		user, token, ok := parseCredentials(tc.mech, tc.raw)
		if user != tc.user || token != tc.token || ok != tc.ok {
			t.Errorf("%q: %q %q %v", tc.raw, user, token, ok)
		}
	}
}

// A transcript of the server's own rules: only OAuth, style enforcement,
// the error challenge, and RSET undoing DELE.
func TestTranscript(t *testing.T) {
	s := &Server{Validate: func(tok string) (string, bool) { return "u@x", tok == "good" }, Style: StyleContinuation}
	s.AddMessage("u@x", []byte("m1\r\n"))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	enc := func(tok string) string {
		return base64.StdEncoding.EncodeToString([]byte("user=u@x\x01auth=Bearer " + tok + "\x01\x01"))
	}
	challenge := base64.StdEncoding.EncodeToString([]byte(errorChallenge))
	for i, st := range []struct{ send, want string }{
		{"", "+OK pop3test ready\r\n"},
		{"USER u@x\r\n", "-ERR [AUTH] Plaintext authentication is disabled; use AUTH XOAUTH2\r\n"},
		{"AUTH XOAUTH2 " + enc("good") + "\r\n", "-ERR Send AUTH without an initial response\r\n"},
		{"AUTH XOAUTH2\r\n", "+ \r\n"},
		{enc("bad") + "\r\n", "+ " + challenge + "\r\n"},
		{"\r\n", "-ERR [AUTH] Authentication failed.\r\n"},
		{"AUTH XOAUTH2\r\n", "+ \r\n"},
		{enc("good") + "\r\n", "+OK Logged in\r\n"},
		{"DELE 1\r\n", "+OK Marked to be deleted\r\n"},
		{"STAT\r\n", "+OK 0 0\r\n"},
		{"RSET\r\nSTAT\r\n", "+OK\r\n+OK 1 4\r\n"},
		{"UIDL 1\r\n", "+OK 1 uid000001\r\n"},
		{"DELE 1\r\nQUIT\r\n", "+OK Marked to be deleted\r\n+OK Bye\r\n"},
	} {
		io.WriteString(c, st.send)
		got := make([]byte, len(st.want))
		if _, err := io.ReadFull(r, got); err != nil || string(got) != st.want {
			t.Fatalf("step %d: got %q (%v), want %q", i, got, err, st.want)
		}
	}
	if n := len(s.Messages("u@x")); n != 0 {
		t.Errorf("%d messages after DELE and QUIT", n)
	}
}

package smtptest

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// The server's own rules, byte for byte: only XOAUTH2, the JSON error
// challenge for a bad token, long AUTH command lines refused while long
// response lines pass, nothing sent without login.
func TestServerTranscript(t *testing.T) {
	s := &Server{MaxCommandLine: 1000, Validate: func(tok string) (string, bool) {
		return "alice@example.com", tok == "good" || tok == strings.Repeat("g", 1200)
	}}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	say := func(line string) { io.WriteString(conn, line+"\r\n") }
	expect := func(want string) {
		t.Helper()
		got, err := r.ReadString('\n')
		if err != nil || got != want+"\r\n" {
			t.Fatalf("want %q, got %q (%v)", want, got, err)
		}
	}
	ir := func(tok string) string { return b64("user=alice@example.com\x01auth=Bearer " + tok + "\x01\x01") }
	long := strings.Repeat("g", 1200)

	expect("220 upstream.test ESMTP Service Ready")
	say("EHLO client.example")
	for _, l := range []string{"250-Hello client.example", "250-PIPELINING", "250-8BITMIME",
		"250-ENHANCEDSTATUSCODES", "250-CHUNKING", "250-AUTH XOAUTH2", "250 SIZE 67108864"} {
		expect(l)
	}
	say("MAIL FROM:<a@example.com>")
	expect("502 5.7.0 Please authenticate first")
	say("AUTH PLAIN " + b64("\x00alice@example.com\x00pw"))
	expect("504 5.7.4 Unsupported authentication mechanism")
	say("AUTH XOAUTH2 " + ir("bad"))
	expect("334 " + b64(XOAuth2Error))
	say("")
	expect("535 5.7.8 Authentication failed")
	say("AUTH XOAUTH2 " + ir(long))
	expect("500 5.5.2 Line too long")
	say("AUTH XOAUTH2")
	expect("334 ")
	say(ir(long))
	expect("235 2.0.0 Authentication succeeded")
	say("MAIL FROM:<a@example.com>")
	expect("250 2.0.0 Roger, accepting mail from <a@example.com>")
	if s.Logins() != 1 {
		t.Errorf("logins %d", s.Logins())
	}
}

package imapfront

import (
	"testing"
)

// scriptStep is one step of a scripted client: what it sends, then the
// lines it must get back.
type scriptStep struct {
	send string
	want []string
}

func step(send string, want ...string) scriptStep { return scriptStep{send, want} }

// Every way a client can send a user name and password reaches the
// authenticator with the same decoded strings.
func TestLoginForms(t *testing.T) {
	const fail = "t1" + badCreds
	for _, tc := range []struct {
		name       string
		script     []scriptStep
		user, pass string
	}{
		{"atom", []scriptStep{step("t1 LOGIN alice@example.com s3cret]\r\n", fail)}, "alice@example.com", "s3cret]"},
		{"quoted with escapes", []scriptStep{step(`t1 login "al ice" "pa\"ss\\w{3}"`+"\r\n", fail)}, "al ice", `pa"ss\w{3}`},
		{"empty quoted", []scriptStep{step(`t1 LOGIN "" ""`+"\r\n", fail)}, "", ""},
		{"sync literals", []scriptStep{
			step("t1 LOGIN {5}\r\n", "+ Ready for literal data"),
			step("alice {6}\r\n", "+ Ready for literal data"),
			step("p\"a\r\nX\r\n", fail)}, "alice", "p\"a\r\nX"},
		{"non-sync literals", []scriptStep{step("t1 LOGIN {5+}\r\nalice {4+}\r\n pw \r\n", fail)}, "alice", " pw "},
		{"mixed", []scriptStep{
			step("t1 LOGIN \"alice\" {4}\r\n", "+ Ready for literal data"),
			step("pass\r\n", fail)}, "alice", "pass"},
		{"mixed literal then atom", []scriptStep{step("t1 LOGIN {5+}\r\nalice pass\r\n", fail)}, "alice", "pass"},
		{"zero-length literal", []scriptStep{step("t1 LOGIN alice {0+}\r\n\r\n", fail)}, "alice", ""},
		{"latin-1 quoted", []scriptStep{step("t1 LOGIN alice \"gr\xfcn\"\r\n", fail)}, "alice", "grün"},
		{"latin-1 literal", []scriptStep{step("t1 LOGIN alice {4+}\r\ngr\xfcn\r\n", fail)}, "alice", "grün"},
		{"utf-8 stays", []scriptStep{step("t1 LOGIN alice \"gr\xc3\xbcn\"\r\n", fail)}, "alice", "grün"},
		{"plain with IR", []scriptStep{step("t1 AUTHENTICATE PLAIN "+b64("\x00alice\x00gr\xc3\xbcn")+"\r\n", fail)}, "alice", "grün"},
		{"plain with authzid", []scriptStep{step("t1 AUTHENTICATE PLAIN "+b64("alice\x00alice\x00pw")+"\r\n", fail)}, "alice", "pw"},
		{"plain without IR", []scriptStep{
			step("t1 authenticate plain\r\n", "+ "),
			step(b64("\x00alice\x00pw")+"\r\n", fail)}, "alice", "pw"},
		{"login mechanism", []scriptStep{
			step("t1 AUTHENTICATE LOGIN\r\n", "+ VXNlcm5hbWU6"),
			step(b64("alice")+"\r\n", "+ UGFzc3dvcmQ6"),
			step(b64("pw")+"\r\n", fail)}, "alice", "pw"},
		{"login mechanism with IR", []scriptStep{
			step("t1 AUTHENTICATE LOGIN "+b64("alice")+"\r\n", "+ UGFzc3dvcmQ6"),
			step(b64("pw")+"\r\n", fail)}, "alice", "pw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auth := &fakeAuth{}
			c := dialFront(t, &Server{Auth: auth}, nil)
			c.expect(greeting)
			for _, s := range tc.script {
				c.send(s.send)
				c.expect(s.want...)
			}
			reqs := auth.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Username != tc.user || r.Password != tc.pass || r.Protocol != "imap" || r.Remote == nil {
				t.Errorf("request user %q pass %q proto %q remote %v; want %q %q", r.Username, r.Password,
					r.Protocol, r.Remote, tc.user, tc.pass)
			}
			if c.sess.Account != tc.user || c.sess.Result != "bad_credentials" {
				t.Errorf("session account %q result %q", c.sess.Account, c.sess.Result)
			}
		})
	}
}

// SASL dialogues that end without credentials.
func TestAuthenticateRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script []scriptStep
	}{
		{"cancel", []scriptStep{step("a AUTHENTICATE PLAIN\r\n", "+ "), step("*\r\n", "a BAD AUTHENTICATE cancelled")}},
		{"cancel login second step", []scriptStep{
			step("a AUTHENTICATE LOGIN\r\n", "+ VXNlcm5hbWU6"),
			step(b64("alice")+"\r\n", "+ UGFzc3dvcmQ6"),
			step("*\r\n", "a BAD AUTHENTICATE cancelled")}},
		{"bad base64", []scriptStep{step("a AUTHENTICATE PLAIN\r\n", "+ "), step("!!!\r\n", "a BAD Invalid base64 data")}},
		{"bad base64 IR", []scriptStep{step("a AUTHENTICATE PLAIN abc\r\n", "a BAD Invalid base64 data")}},
		{"empty IR", []scriptStep{step("a AUTHENTICATE PLAIN =\r\n", "a BAD Malformed authentication data")}},
		{"malformed plain", []scriptStep{step("a AUTHENTICATE PLAIN "+b64("alice")+"\r\n", "a BAD Malformed authentication data")}},
		{"other authzid", []scriptStep{step("a AUTHENTICATE PLAIN "+b64("bob\x00alice\x00pw")+"\r\n",
			"a NO [AUTHORIZATIONFAILED] Authorization identity must be empty or equal the user name")}},
		{"unsupported", []scriptStep{step("a AUTHENTICATE CRAM-MD5\r\n", "a NO [CANNOT] Unsupported authentication mechanism")}},
		{"xoauth2 not offered", []scriptStep{step("a AUTHENTICATE XOAUTH2 "+b64("x")+"\r\n", "a NO [CANNOT] Unsupported authentication mechanism")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auth := &fakeAuth{}
			c := dialFront(t, &Server{Auth: auth, MaxLine: 64}, nil)
			c.expect(greeting)
			for _, s := range tc.script {
				c.send(s.send)
				c.expect(s.want...)
			}
			c.send("z NOOP\r\n")
			c.expect("z OK NOOP completed")
			if n := len(auth.requests()); n != 0 {
				t.Errorf("authenticator called %d times", n)
			}
		})
	}
}

// A SASL response longer than a line may be is refused with BAD.
func TestAuthenticateResponseTooLong(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}, MaxLine: 64}, nil)
	c.expect(greeting)
	c.send("a AUTHENTICATE PLAIN\r\n")
	c.expect("+ ")
	c.send(b64(string(make([]byte, 100))) + "\r\n")
	c.expect("a BAD [TOOBIG] Response too long")
	c.send("z NOOP\r\n")
	c.expect("z OK NOOP completed")
}

// Thunderbird tries PLAIN, LOGIN, then LOGIN command on one connection.
func TestRetryOnSameConnection(t *testing.T) {
	auth := &fakeAuth{}
	c := dialFront(t, &Server{Auth: auth}, nil)
	c.expect(greeting)
	c.send("5 authenticate PLAIN\r\n")
	c.expect("+ ")
	c.send(b64("\x00alice\x00wrong") + "\r\n")
	c.expect("5" + badCreds)
	c.send("6 authenticate LOGIN\r\n")
	c.expect("+ VXNlcm5hbWU6")
	c.send(b64("alice") + "\r\n")
	c.expect("+ UGFzc3dvcmQ6")
	c.send(b64("wrong") + "\r\n")
	c.expect("6" + badCreds)
	c.send("7 login \"alice\" \"wrong\"\r\n")
	c.expect("7" + badCreds)
	if n := len(auth.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

package smtpfront

import (
	"strings"
	"testing"
	"time"
)

// line is one client line and the exact bytes it must get back.
type line struct{ send, want string }

// dialogue is a scripted session after the greeting.
type dialogue struct {
	name   string
	srv    func(*Server)
	lines  []line
	closed bool   // the server must close after the last line
	result string // the session's Result, when checked
}

func runDialogues(t *testing.T, ds []dialogue) {
	for _, d := range ds {
		t.Run(d.name, func(t *testing.T) {
			srv := &Server{Auth: &fakeAuth{}}
			if d.srv != nil {
				d.srv(srv)
			}
			h := newHarness(t, srv)
			c := h.dial()
			c.expect(greeting)
			for _, l := range d.lines {
				c.send(l.send)
				c.expect(l.want)
			}
			if d.closed {
				c.expectClosed()
			}
			c.conn.Close()
			if s := h.session(0); d.result != "" && s.Result != d.result {
				t.Errorf("result %q, want %q", s.Result, d.result)
			}
		})
	}
}

const ehlo = "EHLO client.example\r\n"

func TestGreetingCommands(t *testing.T) {
	runDialogues(t, []dialogue{
		{name: "ehlo", lines: []line{{ehlo, ehloPlain}}},
		{name: "ehlo lower case", lines: []line{{"ehlo [127.0.0.1]\r\n", ehloPlain}}},
		{name: "ehlo twice", lines: []line{{ehlo, ehloPlain}, {ehlo, ehloPlain}}},
		{name: "ehlo without name", lines: []line{{"EHLO\r\n", "501 5.5.4 Syntax: EHLO hostname\r\n"}}},
		{name: "ehlo with control char", lines: []line{{"EHLO a\x01b\r\n", "501 5.5.4 Syntax: EHLO hostname\r\n"}}},
		{name: "helo", lines: []line{{"HELO client.example\r\n", "250 mx.test\r\n"}}},
		{name: "helo without name", lines: []line{{"HELO\r\n", "501 5.5.4 Syntax: HELO hostname\r\n"}}},
		{name: "noop rset", lines: []line{
			{"NOOP\r\n", "250 2.0.0 OK\r\n"}, {"RSET\r\n", "250 2.0.0 OK\r\n"}}},
		{name: "quit", lines: []line{{"QUIT\r\n", "221 2.0.0 mx.test closing connection\r\n"}},
			closed: true, result: "quit"},
		{name: "bare LF", lines: []line{{"NOOP\n", "250 2.0.0 OK\r\n"}}},
		{name: "ehlo shows STARTTLS", srv: withTLS(t, false),
			lines: []line{{ehlo, ehloHead + "250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"}}},
		{name: "require TLS hides AUTH", srv: withTLS(t, true),
			lines: []line{{ehlo, ehloHead + "250 STARTTLS\r\n"},
				{"AUTH PLAIN\r\n", "530 5.7.0 Must issue a STARTTLS command first\r\n"}}},
	})
}

func TestRefusedBeforeLogin(t *testing.T) {
	runDialogues(t, []dialogue{
		{name: "transaction before auth", lines: []line{
			{"MAIL FROM:<a@example.com>\r\n", "530 5.7.0 Authentication required\r\n"},
			{ehlo, ehloPlain},
			{"MAIL FROM:<a@example.com>\r\n", "530 5.7.0 Authentication required\r\n"},
			{"RCPT TO:<b@example.com>\r\n", "530 5.7.0 Authentication required\r\n"},
			{"DATA\r\n", "530 5.7.0 Authentication required\r\n"},
			{"BDAT 10 LAST\r\n", "530 5.7.0 Authentication required\r\n"},
		}},
		{name: "auth before ehlo", lines: []line{
			{"AUTH PLAIN " + plainIR(testUser, testPassword) + "\r\n", "503 5.5.1 Send EHLO first\r\n"}}},
		{name: "auth after helo", lines: []line{
			{"HELO client.example\r\n", "250 mx.test\r\n"},
			{"AUTH LOGIN\r\n", "503 5.5.1 Send EHLO first\r\n"}}},
		{name: "unknown", lines: []line{
			{"XYZZY\r\n", "500 5.5.1 Unrecognized command\r\n"},
			{"VRFY root\r\n", "502 5.5.1 Command not implemented\r\n"},
			{"\r\n", "500 5.5.2 Syntax error\r\n"},
			{"MAIL:FROM\r\n", "500 5.5.2 Syntax error\r\n"},
			{"N\x00OP\r\n", "500 5.5.2 Syntax error\r\n"},
		}},
		{name: "starttls unavailable", lines: []line{
			{"STARTTLS\r\n", "502 5.5.1 STARTTLS not available\r\n"}}},
	})
}

func TestAuthDialogueErrors(t *testing.T) {
	runDialogues(t, []dialogue{
		{name: "plain cancel", lines: []line{{ehlo, ehloPlain},
			{"AUTH PLAIN\r\n", "334 \r\n"}, {"*\r\n", "501 5.7.0 Authentication canceled\r\n"},
			{"MAIL FROM:<a@example.com>\r\n", "530 5.7.0 Authentication required\r\n"}}},
		{name: "plain cancel as initial response", lines: []line{{ehlo, ehloPlain},
			{"AUTH PLAIN *\r\n", "501 5.7.0 Authentication canceled\r\n"}}},
		{name: "login cancel at password", lines: []line{{ehlo, ehloPlain},
			{"AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n"},
			{b64(testUser) + "\r\n", "334 UGFzc3dvcmQ6\r\n"},
			{"*\r\n", "501 5.7.0 Authentication canceled\r\n"}}},
		{name: "bad base64 initial response", lines: []line{{ehlo, ehloPlain},
			{"AUTH PLAIN !!!!\r\n", "501 5.5.2 Invalid base64 data\r\n"}}},
		{name: "bad base64 response", lines: []line{{ehlo, ehloPlain},
			{"AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n"},
			{"not base64\r\n", "501 5.5.2 Invalid base64 data\r\n"}}},
		{name: "plain empty initial response", lines: []line{{ehlo, ehloPlain},
			{"AUTH PLAIN =\r\n", "501 5.5.2 Malformed authentication data\r\n"}}},
		{name: "plain without separators", lines: []line{{ehlo, ehloPlain},
			{"AUTH PLAIN " + b64("nonuls") + "\r\n", "501 5.5.2 Malformed authentication data\r\n"}}},
		{name: "plain foreign authzid", lines: []line{{ehlo, ehloPlain},
			{"AUTH PLAIN " + b64("bob\x00"+testUser+"\x00"+testPassword) + "\r\n",
				"535 5.7.8 Authorization identity must be empty or equal the user name\r\n"}}},
		{name: "unsupported mechanism", lines: []line{{ehlo, ehloPlain},
			{"AUTH CRAM-MD5\r\n", "504 5.5.4 Unrecognized authentication type\r\n"},
			{"AUTH XOAUTH2 dG9rZW4=\r\n", "504 5.5.4 Unrecognized authentication type\r\n"}}},
		{name: "auth syntax", lines: []line{{ehlo, ehloPlain},
			{"AUTH\r\n", "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n"},
			{"AUTH PLAIN a b\r\n", "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n"}}},
		{name: "wrong password", result: "bad_credentials", lines: []line{{ehlo, ehloPlain},
			{"AUTH PLAIN " + plainIR(testUser, "wrong") + "\r\n", "535 5.7.8 Authentication credentials invalid\r\n"},
			{"MAIL FROM:<a@example.com>\r\n", "530 5.7.0 Authentication required\r\n"}}},
		{name: "long SASL response", lines: []line{{ehlo, ehloPlain},
			{"AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n"},
			{strings.Repeat("QUFB", 1200) + "\r\n", "500 5.5.6 Authentication exchange line is too long\r\n"},
			{"NOOP\r\n", "250 2.0.0 OK\r\n"}}},
	})
}

// Unknown users and wrong passwords must be indistinguishable on the wire.
func TestBadCredentialsIdentical(t *testing.T) {
	transcript := func(user string) string {
		h := newHarness(t, &Server{Auth: &fakeAuth{}})
		c := h.dial()
		c.expect(greeting)
		c.send(ehlo)
		c.expect(ehloPlain)
		c.send("AUTH LOGIN " + b64(user) + "\r\n")
		c.expect("334 UGFzc3dvcmQ6\r\n")
		c.send(b64("wrong") + "\r\n")
		got := c.expectCode("535")
		c.send("QUIT\r\n")
		c.expectCode("221")
		return got
	}
	known, unknown := transcript(testUser), transcript("nobody@example.com")
	if known != unknown {
		t.Errorf("known user got %q, unknown user %q", known, unknown)
	}
}

func TestLimits(t *testing.T) {
	long := strings.Repeat("x", DefaultMaxLine+10)
	runDialogues(t, []dialogue{
		{name: "line too long, then go on", lines: []line{
			{"NOOP " + long + "\r\n", "500 5.5.2 Line too long\r\n"},
			{"NOOP\r\n", "250 2.0.0 OK\r\n"}}},
		{name: "line far too long", closed: true, result: "protocol_error", lines: []line{
			{"NOOP " + strings.Repeat(long, 20) + "\r\n", "500 5.5.2 Line too long\r\n"}}},
		{name: "too many commands", srv: func(s *Server) { s.MaxCommands = 3 },
			closed: true, result: "too_many_commands", lines: []line{
				{"NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n",
					"250 2.0.0 OK\r\n250 2.0.0 OK\r\n250 2.0.0 OK\r\n" +
						"421 4.7.0 mx.test Too many commands, closing connection\r\n"}}},
	})
}

func TestLoginTimeout(t *testing.T) {
	srv := &Server{Auth: &fakeAuth{}, LoginTimeout: 200 * time.Millisecond}
	h := newHarness(t, srv)
	c := h.dial()
	c.expect(greeting)
	c.send(ehlo)
	c.expect(ehloPlain)
	// Say nothing more: the login time budget runs out.
	c.expect("421 4.4.2 mx.test Login timeout, closing connection\r\n")
	c.expectClosed()
	if r := h.session(0).Result; r != "timeout" {
		t.Errorf("result %q", r)
	}
}

func TestShutdownBeforeLogin(t *testing.T) {
	h := newHarness(t, &Server{Auth: &fakeAuth{}})
	c := h.dial()
	c.expect(greeting)
	h.stop()
	c.expect("421 4.3.2 mx.test Service shutting down, closing connection\r\n")
	c.expectClosed()
}

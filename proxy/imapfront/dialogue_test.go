package imapfront

import (
	"testing"
)

func TestGreetingCapabilityNoop(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}}, nil)
	c.expect(greeting)
	c.send("a1 CAPABILITY\r\n")
	c.expect("* CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+ AUTH=PLAIN AUTH=LOGIN", "a1 OK CAPABILITY completed")
	// Thunderbird: lower case, numeric tags that do not start at 1.
	c.send("56 capability\r\n57 noop\r\n")
	c.expect("* CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+ AUTH=PLAIN AUTH=LOGIN", "56 OK CAPABILITY completed",
		"57 OK NOOP completed")
}

func TestGreetingHostname(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}, Hostname: "mail.example.org"}, nil)
	c.expect("* OK [CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+ AUTH=PLAIN AUTH=LOGIN] mail.example.org oauthbridge ready")
}

func TestIDAndLogout(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}}, nil)
	c.expect(greeting)
	c.send(`ABCD1 ID ("name" "Thunderbird" "version" "153.0")` + "\r\n")
	c.expect(`* ID ("name" "oauthbridge")`, "ABCD1 OK ID completed")
	c.send("ABCD2 id NIL\r\n")
	c.expect(`* ID ("name" "oauthbridge")`, "ABCD2 OK ID completed")
	c.send("x.y] LoGoUt\r\n")
	c.expect("* BYE Logging out", "x.y] OK LOGOUT completed")
	c.expectClosed()
	if c.sess.Result != "logout" {
		t.Errorf("result %q, want logout", c.sess.Result)
	}
}

func TestRefusedBeforeLogin(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}}, nil)
	c.expect(greeting)
	for _, tc := range []struct{ send, want string }{
		{"a SELECT INBOX", "a BAD [CLIENTBUG] SELECT not allowed before login"},
		{"b list \"\" \"*\"", "b BAD [CLIENTBUG] LIST not allowed before login"},
		{"c ENABLE UTF8=ACCEPT", "c BAD [CLIENTBUG] ENABLE not allowed before login"},
		{"d uid fetch 1:* (FLAGS)", "d BAD [CLIENTBUG] UID not allowed before login"},
		{"e idle", "e BAD [CLIENTBUG] IDLE not allowed before login"},
		{"f XYZZY", "f BAD Unknown command XYZZY"},
	} {
		c.send(tc.send + "\r\n")
		c.expect(tc.want)
	}
}

// Malformed lines get a BAD with a reason, and the connection goes on.
func TestMalformed(t *testing.T) {
	for _, tc := range []struct{ name, send, want string }{
		{"empty", "", "* BAD Syntax error: missing or invalid tag"},
		{"tag only", "a", "a BAD Syntax error: expected a space at column 2"},
		{"plus tag", "+ NOOP", "* BAD Syntax error: missing or invalid tag"},
		{"star tag", "* NOOP", "* BAD Syntax error: missing or invalid tag"},
		{"no name", "a ", "a BAD Syntax error: missing command name"},
		{"two spaces", "a  NOOP", "a BAD Syntax error: missing command name"},
		{"noop args", "a NOOP now", "a BAD Syntax error: unexpected characters at column 7"},
		{"login one arg", "a LOGIN user", "a BAD Syntax error: expected a space at column 13"},
		{"login three args", "a LOGIN u p q", "a BAD Syntax error: unexpected characters at column 12"},
		{"unterminated", `a LOGIN u "pass`, "a BAD Syntax error: unterminated quoted string"},
		{"bad escape", `a LOGIN u "pa\ss"`, "a BAD Syntax error: bad escape in quoted string"},
		{"bad atom", "a LOGIN u (p)", "a BAD Syntax error: expected an atom at column 11"},
		{"nul", "a LOGIN u \"p\x00\"", "a BAD Syntax error: bad character in quoted string"},
		{"bad literal size", "a LOGIN u {x}", "a BAD Bad literal size"},
		{"auth no mech", "a AUTHENTICATE", "a BAD Syntax error: expected a space at column 15"},
		{"auth extra", "a AUTHENTICATE PLAIN = x", "a BAD Syntax error: unexpected characters at column 23"},
		{"id unclosed", "a ID (name", "a BAD Syntax error: expected a space at column 11"},
		{"id no list", "a ID name", "a BAD Syntax error: ID expects a parenthesised list or NIL"},
		{"binary", "\x01\x02\xff", "* BAD Syntax error: missing or invalid tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialFront(t, &Server{Auth: &fakeAuth{}}, nil)
			c.expect(greeting)
			c.send(tc.send + "\r\n")
			c.expect(tc.want)
			c.send("z NOOP\r\n")
			c.expect("z OK NOOP completed")
		})
	}
}

// A client that goes away after a failed login leaves that failure as the
// connection's result.
func TestCloseAfterFailureKeepsResult(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}}, nil)
	c.expect(greeting)
	c.send("1 LOGIN a b\r\n")
	c.expect("1" + badCreds)
	c.conn.Close()
	c.wait()
	if c.sess.Result != "bad_credentials" {
		t.Errorf("result %q, want bad_credentials", c.sess.Result)
	}
}

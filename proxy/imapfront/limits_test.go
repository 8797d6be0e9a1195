package imapfront

import (
	"strings"
	"testing"
	"time"
)

func TestLineTooLongResyncs(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}, MaxLine: 64}, nil)
	c.expect(greeting)
	c.send("a LOGIN " + strings.Repeat("x", 200) + " pw\r\n")
	c.expect("* BAD [TOOBIG] Line too long")
	c.send("b NOOP\r\n")
	c.expect("b OK NOOP completed")
}

func TestLineFarTooLongCloses(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}}, nil)
	c.expect(greeting)
	go c.conn.Write([]byte(strings.Repeat("x", 100*1024)))
	// The server hangs up with input unread, so the kernel may reset the
	// connection before the BYE is read: accept either.
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	if line, err := c.br.ReadString('\n'); err == nil && line != "* BYE Line too long\r\n" {
		t.Fatalf("got %q", line)
	}
	c.wait()
	if c.sess.Result != "protocol_error" {
		t.Errorf("result %q", c.sess.Result)
	}
}

// A synchronising literal over the limit is refused before the client
// sends it, so the dialogue goes on.
func TestSyncLiteralTooBig(t *testing.T) {
	auth := &fakeAuth{}
	c := dialFront(t, &Server{Auth: auth, MaxLiteral: 16}, nil)
	c.expect(greeting)
	c.send("a LOGIN alice {17}\r\n")
	c.expect("a BAD [TOOBIG] Literal too big")
	c.send("b LOGIN alice {16}\r\n")
	c.expect("+ Ready for literal data")
	c.send("0123456789abcdef\r\n")
	c.expect("b" + badCreds)
}

// A non-synchronising literal's bytes are already on the way: refuse and
// hang up.
func TestNonSyncLiteralTooBigCloses(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}, MaxLiteral: 16}, nil)
	c.expect(greeting)
	c.send("a LOGIN alice {17+}\r\n")
	c.expect("a BAD [TOOBIG] Literal too big", "* BYE Cannot continue after that")
	c.expectClosed()
}

func TestTooManyLiterals(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}}, nil)
	c.expect(greeting)
	c.send("a ID ({1+}\r\na {1+}\r\nb {1+}\r\nc {1+}\r\nd {1+}\r\n")
	c.expect("a BAD Too many literals", "* BYE Cannot continue after that")
	c.expectClosed()
}

func TestHugeLiteralSizeRefused(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}}, nil)
	c.expect(greeting)
	c.send("a LOGIN {99999999999999999999}\r\n")
	c.expect("a BAD Bad literal size")
	c.send("b NOOP\r\n")
	c.expect("b OK NOOP completed")
}

func TestTooManyCommands(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}, MaxCommands: 3}, nil)
	c.expect(greeting)
	c.send("a NOOP\r\nb LOGIN x y\r\nc FOO\r\nd NOOP\r\n")
	c.expect("a OK NOOP completed", "b"+badCreds, "c BAD Unknown command FOO", "* BYE Too many commands before login")
	c.expectClosed()
	if c.sess.Result != "too_many_commands" {
		t.Errorf("result %q", c.sess.Result)
	}
}

func TestLoginTimeout(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}, LoginTimeout: 100 * time.Millisecond}, nil)
	c.expect(greeting)
	c.send("a NOOP\r\n")
	c.expect("a OK NOOP completed")
	// The client now waits; the server must give up on its own.
	c.expect("* BYE Autologout; login timeout")
	c.expectClosed()
	if c.sess.Result != "timeout" {
		t.Errorf("result %q", c.sess.Result)
	}
}

// The timeout also covers a client that stops halfway through a literal.
func TestLoginTimeoutInLiteral(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}, LoginTimeout: 100 * time.Millisecond}, nil)
	c.expect(greeting)
	c.send("a LOGIN alice {10}\r\n")
	c.expect("+ Ready for literal data")
	c.send("abc")
	c.expect("* BYE Autologout; login timeout")
	c.expectClosed()
}

func TestShutdown(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}}, nil)
	c.expect(greeting)
	c.stop()
	c.expect("* BYE Server shutting down")
	c.expectClosed()
	if c.sess.Result != "shutdown" {
		t.Errorf("result %q", c.sess.Result)
	}
}

package imapfront

import (
	"strings"
	"testing"
)

// Over-long lines count against the commands allowed before login, so a
// client cannot keep sending them until the login timeout.
func TestOverlongLinesCountAsCommands(t *testing.T) {
	c := dialFront(t, &Server{Auth: &fakeAuth{}, MaxLine: 64, MaxCommands: 3}, nil)
	c.expect(greeting)
	long := "a LOGIN " + strings.Repeat("x", 200) + " pw\r\n"
	for range 3 {
		c.send(long)
		c.expect("* BAD [TOOBIG] Line too long")
	}
	c.send(long)
	c.expect("* BYE Too many commands before login")
	c.expectClosed()
	c.wait()
	if c.sess.Result != "too_many_commands" {
		t.Errorf("result %q", c.sess.Result)
	}
}

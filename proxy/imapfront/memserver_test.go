package imapfront

import (
	"errors"
	"strings"
	"testing"

	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

const memScope = "https://mail.example.com/"

// tokens returns a Validate function accepting only the given tokens for
// alice.
func tokens(ok ...string) func(string) (string, bool) {
	return func(tok string) (string, bool) {
		for _, o := range ok {
			if tok == o {
				return "alice@example.com", true
			}
		}
		return "", false
	}
}

func startMem(t *testing.T, mode upstream.TLSMode, valid ...string) *imaptest.Server {
	return imaptest.Start(t, imaptest.Options{Validate: tokens(valid...), Users: []string{"alice@example.com"},
		TLS: mode, Scope: memScope})
}

// The upstream login against go-imap's server, in each TLS mode.
func TestLoginUpstreamGoIMAP(t *testing.T) {
	for _, mode := range []upstream.TLSMode{upstream.Implicit, upstream.StartTLS, upstream.Plain} {
		t.Run(string(mode), func(t *testing.T) {
			mem := startMem(t, mode, testToken)
			up, err := loginUp(t, testGrant(mem.Endpoint()))
			if err != nil {
				t.Fatal(err)
			}
			if !hasCap(up.Caps, "IDLE") || hasCap(up.Caps, "AUTH=XOAUTH2") {
				t.Errorf("post-login caps %v", up.Caps)
			}
			if mem.Logins() != 1 {
				t.Errorf("%d logins", mem.Logins())
			}
		})
	}
}

// go-imap's server answers a bad token with the error challenge, which
// must be answered before the final NO.
func TestLoginUpstreamGoIMAPRefused(t *testing.T) {
	mem := startMem(t, upstream.Implicit, "another token")
	_, err := loginUp(t, testGrant(mem.Endpoint()))
	var ue *UpstreamError
	if !errors.As(err, &ue) || !errors.Is(err, upstream.ErrRejected) {
		t.Fatalf("error %v", err)
	}
	if ue.Scope != memScope || ue.Text != "Authentication failed." {
		t.Errorf("scope %q text %q", ue.Scope, ue.Text)
	}
	if mem.Refusals() != 1 {
		t.Errorf("%d refusals", mem.Refusals())
	}
}

func TestLoginUpstreamGoIMAPBadCertificate(t *testing.T) {
	for _, mode := range []upstream.TLSMode{upstream.Implicit, upstream.StartTLS} {
		t.Run(string(mode), func(t *testing.T) {
			mem := startMem(t, mode, testToken)
			ep := mem.Endpoint()
			ep.TLSConfig = nil // system roots: the test certificate is unknown
			_, err := loginUp(t, testGrant(ep))
			if !errors.Is(err, upstream.ErrTLS) {
				t.Fatalf("error %v", err)
			}
		})
	}
}

// The whole login through the front end, with the upstream's capabilities
// in the OK and the commands pipelined behind LOGIN reaching the upstream.
func TestFrontLoginPipelined(t *testing.T) {
	mem := startMem(t, upstream.Implicit, testToken)
	auth := grantFor(mem.Endpoint(), "alice@example.com", testToken)
	c := dialFront(t, &Server{Auth: auth}, nil)
	c.expect(greeting)
	c.send("a1 CAPABILITY\r\na2 LOGIN Alice@Example.com pw\r\na3 SELECT INBOX\r\n")
	c.expect("* CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+ AUTH=PLAIN AUTH=LOGIN", "a1 OK CAPABILITY completed",
		"a2 OK [CAPABILITY "+goIMAPCaps+"] Logged in")
	lastLine := c.readUntilTag("a3")
	if !strings.HasPrefix(lastLine, "a3 OK") {
		t.Errorf("SELECT answered %q", lastLine)
	}
	if c.sess.Account != "alice@example.com" || c.sess.Result != "ok" {
		t.Errorf("account %q result %q", c.sess.Account, c.sess.Result)
	}
	c.send("a4 LOGOUT\r\n")
	c.expect("* BYE Logging out", "a4 OK LOGOUT completed")
	c.expectClosed()
	if c.sess.BytesIn.Load() == 0 || c.sess.BytesOut.Load() == 0 {
		t.Errorf("relay counted in %d out %d", c.sess.BytesIn.Load(), c.sess.BytesOut.Load())
	}
}

// goIMAPCaps is what go-imap's server says after login with the options
// imaptest uses.
const goIMAPCaps = "IMAP4rev2 IMAP4rev1 SASL-IR LITERAL- UNSELECT ENABLE IDLE UTF8=ACCEPT NAMESPACE UIDPLUS ESEARCH SEARCHRES LIST-EXTENDED LIST-STATUS MOVE STATUS=SIZE CHILDREN"

// readUntilTag reads lines up to the completion of tag and returns it.
func (c *client) readUntilTag(tag string) string {
	c.t.Helper()
	for i := 0; i < 50; i++ {
		c.conn.SetReadDeadline(timeNowPlus())
		line, err := c.br.ReadString('\n')
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", tag, err)
		}
		if strings.HasPrefix(line, tag+" ") {
			return strings.TrimSuffix(line, "\r\n")
		}
	}
	c.t.Fatalf("no completion for %s", tag)
	return ""
}

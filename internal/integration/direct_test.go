//go:build integration

package integration

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/saslmech"
)

// TestDirectDexDovecotAgree proves the harness before any proxy is
// involved: a token from Dex logs in to Dovecot over verified TLS on every
// protocol, and a password does not.
func TestDirectDexDovecotAgree(t *testing.T) {
	e := needEnv(t)
	u := Users["judy"] // never used through the proxy: this grant would revoke its token there
	tok, err := e.Dex.PasswordGrant(testCtx(t, 20*time.Second), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("imap-xoauth2", func(t *testing.T) {
		c := dialIMAP(t, e.Dovecot.IMAPS, e.CA.ClientTLS())
		if err := c.Authenticate(saslmech.NewXOAuth2Client(u.Email, tok.AccessToken)); err != nil {
			t.Fatalf("AUTHENTICATE XOAUTH2: %v\n%s", err, e.Dovecot.LogTail(2000))
		}
		sel, err := c.Select("INBOX", nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if want := len(e.Mail[u.Email].Folder("INBOX")); int(sel.NumMessages) != want {
			t.Fatalf("INBOX has %d messages, seeded %d", sel.NumMessages, want)
		}
	})
	t.Run("imap-login-refused", func(t *testing.T) {
		c := dialIMAP(t, e.Dovecot.IMAPS, e.CA.ClientTLS())
		err := c.Login(u.Email, u.Password).Wait()
		if err == nil {
			t.Fatal("Dovecot accepted a password LOGIN; it must accept only OAuth")
		}
		t.Logf("LOGIN refused as expected: %v", err)
	})
	t.Run("imap-bad-token", func(t *testing.T) {
		c := dialIMAP(t, e.Dovecot.IMAPS, e.CA.ClientTLS())
		x := saslmech.NewXOAuth2Client(u.Email, tok.AccessToken[:len(tok.AccessToken)-4]+"AAAA")
		if err := c.Authenticate(x); err == nil {
			t.Fatal("Dovecot accepted a forged token")
		}
		if x.Failure == nil || x.Failure.Status != "401" {
			t.Fatalf("want the XOAUTH2 error challenge with status 401, got %+v", x.Failure)
		}
	})
	t.Run("pop3-xoauth2", func(t *testing.T) {
		conn, err := tls.Dial("tcp", e.Dovecot.POP3S, e.CA.ClientTLS())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		r := bufio.NewReader(conn)
		expectPrefix(t, r, "+OK")
		_, ir, _ := saslmech.NewXOAuth2Client(u.Email, tok.AccessToken).Start()
		conn.Write([]byte("AUTH XOAUTH2 " + base64.StdEncoding.EncodeToString(ir) + "\r\n"))
		expectPrefix(t, r, "+OK")
		conn.Write([]byte("STAT\r\n"))
		line := expectPrefix(t, r, "+OK ")
		if !strings.HasPrefix(line, "+OK 12 ") {
			t.Fatalf("STAT = %q, want the 12 seeded INBOX messages", line)
		}
	})
	t.Run("submission-xoauth2", func(t *testing.T) {
		c, err := smtp.Dial(e.Dovecot.Submission)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.StartTLS(e.CA.ClientTLS()); err != nil {
			t.Fatal(err)
		}
		if err := c.Auth(twoStepXOAuth2{u.Email, tok.AccessToken}); err != nil {
			t.Fatalf("AUTH XOAUTH2: %v\n%s", err, e.Dovecot.LogTail(2000))
		}
		marker := "direct-submission-" + time.Now().Format("150405.000000")
		sendMail(t, c, u.Email, "someone@example.org", marker)
		if !waitFor(10*time.Second, func() bool { _, ok := e.Sink.Find(marker); return ok }) {
			t.Fatalf("message %s never reached the sink", marker)
		}
		m, _ := e.Sink.Find(marker)
		if !strings.Contains(string(StripReceived(m.Data)), "Subject: "+marker+"\r\n") {
			t.Errorf("relayed message lost its headers:\n%s", m.Data)
		}
	})
}

// TestDirectDeviceFlowHeadless proves the headless browser can complete
// Dex's device flow, which the proxy's authorize command depends on.
func TestDirectDeviceFlowHeadless(t *testing.T) {
	e := needEnv(t)
	tok, err := e.Dex.DeviceGrant(testCtx(t, 30*time.Second), Users["ivan"])
	if err != nil {
		t.Fatalf("%v\n%s", err, e.Logs())
	}
	if tok.RefreshToken == "" || jwtEmail(tok.IDToken) != Users["ivan"].Email {
		t.Fatalf("device grant gave no refresh token or the wrong identity (%q)", jwtEmail(tok.IDToken))
	}
}

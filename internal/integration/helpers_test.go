//go:build integration

package integration

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/oauthbridge/oauthbridge/proxy/saslmech"
)

func dialIMAP(t *testing.T, addr string, cfg *tls.Config) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(addr, &imapclient.Options{TLSConfig: cfg})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func expectPrefix(t *testing.T, r *bufio.Reader, prefix string) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read (want %q): %v", prefix, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, prefix) {
		t.Fatalf("got %q, want prefix %q", line, prefix)
	}
	return line
}

// twoStepXOAuth2 sends "AUTH XOAUTH2" alone and the credentials after the
// 334: Dovecot's submission service (like Gmail) refuses command lines
// over about 1 KiB, and a JWT with SASL-IR is longer than that.
type twoStepXOAuth2 struct{ user, token string }

func (a twoStepXOAuth2) Start(*smtp.ServerInfo) (string, []byte, error) {
	return saslmech.XOAuth2, nil, nil
}

func (a twoStepXOAuth2) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	x := saslmech.NewXOAuth2Client(a.user, a.token)
	if len(challenge) == 0 {
		_, ir, _ := x.Start()
		return ir, nil
	}
	return x.Next(challenge)
}

func sendMail(t *testing.T, c *smtp.Client, from, to, marker string) {
	t.Helper()
	if err := c.Mail(from); err != nil {
		t.Fatalf("MAIL: %v", err)
	}
	if err := c.Rcpt(to); err != nil {
		t.Fatalf("RCPT: %v", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatalf("DATA: %v", err)
	}
	fmt.Fprintf(w, "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: %s\r\n\r\nbody %s\r\n",
		from, to, marker, time.Now().Format(time.RFC1123Z), marker)
	if err := w.Close(); err != nil {
		t.Fatalf("end of DATA: %v", err)
	}
}

package smtpfront

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"math/rand/v2"
	"net"
	"net/smtp"
	"strings"
	"testing"

	"github.com/oauthbridge/oauthbridge/proxy/smtpfront/smtptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// bigMessage is a MIME message with an attachment of n random bytes,
// CRLF line endings throughout, and text lines that need dot-stuffing.
func bigMessage(n int) []byte {
	raw := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	rng.Read(raw)
	enc := base64.StdEncoding.EncodeToString(raw)
	var b bytes.Buffer
	b.WriteString("From: " + testUser + "\r\nTo: bob@example.org\r\nSubject: big\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\n.a line with a leading dot\r\n..and two\r\n.\r\n" +
		"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b1--\r\n")
	return b.Bytes()
}

// Go's net/smtp client sends a 10 MB attachment through the front end and
// the OAuth-only upstream receives it byte for byte.
func TestEndToEndNetSMTP(t *testing.T) {
	msg := bigMessage(10 << 20)
	for _, tc := range []struct {
		name     string
		frontTLS bool
		upTLS    upstream.TLSMode
	}{
		{"plain loopback both sides", false, upstream.Plain},
		{"starttls both sides", true, upstream.StartTLS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := startUpstream(t, func(s *smtptest.Server) { s.TLS = tc.upTLS })
			srv := &Server{Auth: &fakeAuth{endpoint: up.Endpoint()}}
			var roots *tls.Config
			if tc.frontTLS {
				srv.TLSConfig, roots = testTLS(t)
				srv.RequireTLS = true
			}
			h := newHarness(t, srv)
			sendWithNetSMTP(t, h.ln.Addr().String(), roots, msg)
			got := up.Messages()
			if len(got) != 1 {
				t.Fatalf("%d messages delivered", len(got))
			}
			if sha256.Sum256(got[0].Data) != sha256.Sum256(msg) {
				t.Fatalf("message changed in transit: %d bytes sent, %d received", len(msg), len(got[0].Data))
			}
			if s := h.session(0); s.BytesIn.Load() < int64(len(msg)) || s.Result != "ok" || s.TLS != tc.frontTLS {
				t.Errorf("session: in %d, result %q, tls %v", s.BytesIn.Load(), s.Result, s.TLS)
			}
		})
	}
}

func sendWithNetSMTP(t *testing.T, addr string, roots *tls.Config, msg []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	// "localhost" lets PlainAuth work without TLS, and names the test
	// certificate when there is TLS.
	c, err := smtp.NewClient(conn, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	check := func(what string, err error) {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	check("hello", c.Hello("client.example"))
	if roots != nil {
		check("starttls", c.StartTLS(&tls.Config{RootCAs: roots.RootCAs, ServerName: "localhost"}))
	}
	if ok, mechs := c.Extension("AUTH"); !ok || !strings.Contains(mechs, "PLAIN") {
		t.Fatalf("AUTH not offered: %q", mechs)
	}
	check("auth", c.Auth(smtp.PlainAuth("", testUser, testPassword, "localhost")))
	check("mail", c.Mail(testUser))
	check("rcpt", c.Rcpt("bob@example.org"))
	w, err := c.Data()
	check("data", err)
	_, err = w.Write(msg)
	check("write", err)
	check("end of data", w.Close())
	check("quit", c.Quit())
}

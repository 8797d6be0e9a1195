package bench

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// Account is a mail account the benchmarks log in as.
type Account struct {
	Email    string
	Password string
}

// World is everything oauthbridge talks to, on 127.0.0.1: the test IdP
// and the XOAUTH2-only IMAP server that checks every token with it,
// both over TLS.
type World struct {
	IdP *testidp.IdP
	Up  *imaptest.Server
	// UpCertPEM is the upstream's self-signed certificate, for the
	// proxy's ca_file.
	UpCertPEM []byte
	// Accounts exist at the upstream; BulkAccount's INBOX holds the
	// large messages.
	Accounts    []Account
	BulkAccount Account
}

// NewWorld starts the IdP and the upstream with n accounts plus the bulk
// account. The IdP speaks HTTPS, as real providers do.
func NewWorld(tb testing.TB, n int) *World {
	tb.Helper()
	w := &World{IdP: testidp.New(tb, testidp.WithTLS())}
	w.BulkAccount = Account{Email: "bulk@example.test", Password: "bulk-" + randomWord()}
	users := []string{w.BulkAccount.Email}
	for i := range n {
		a := Account{Email: fmt.Sprintf("user%d@example.test", i), Password: fmt.Sprintf("pw%d-%s", i, randomWord())}
		w.Accounts = append(w.Accounts, a)
		users = append(users, a.Email)
	}
	w.Up = imaptest.Start(tb, imaptest.Options{Validate: w.IdP.Validate, TLS: upstream.Implicit, Users: users})
	pemBytes, err := peerCertPEM(w.Up.Addr, w.UpTLS())
	if err != nil {
		tb.Fatal(err)
	}
	w.UpCertPEM = pemBytes
	return w
}

// peerCertPEM fetches the certificate a test server presents, verified
// with cfg (which trusts it), so that the proxy child can be told to
// trust exactly that certificate: the test helpers expose a pool, not
// the PEM.
func peerCertPEM(addr string, cfg *tls.Config) ([]byte, error) {
	d := &tls.Dialer{Config: cfg, NetDialer: &net.Dialer{Timeout: 10 * time.Second}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("certificate of %s: %w", addr, err)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, fmt.Errorf("certificate of %s: none presented", addr)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[0].Raw}), nil
}

// idpCertPEM is the IdP's HTTPS certificate.
func (w *World) idpCertPEM() ([]byte, error) {
	u, err := url.Parse(w.IdP.URL)
	if err != nil {
		return nil, err
	}
	tr, ok := w.IdP.Client().Transport.(*http.Transport)
	if !ok || tr.TLSClientConfig == nil {
		return nil, fmt.Errorf("idp client has no TLS configuration")
	}
	return peerCertPEM(u.Host, tr.TLSClientConfig)
}

// randomWord is a short random string for passwords.
func randomWord() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// UpTLS is the client configuration for logging in to the upstream
// directly.
func (w *World) UpTLS() *tls.Config {
	return upstream.ClientConfig(w.Up.Endpoint())
}

// AccessToken mints a fresh access token for a direct login.
func (w *World) AccessToken(email string) string {
	return w.IdP.Issue(email).AccessToken
}

// FillBulk delivers count messages of about size bytes each to the bulk
// account's INBOX.
func (w *World) FillBulk(count, size int) error {
	for i := range count {
		if err := w.Up.Deliver(w.BulkAccount.Email, "INBOX", Message(i, size)); err != nil {
			return fmt.Errorf("deliver bulk message %d: %w", i, err)
		}
	}
	return nil
}

// Message builds a mail of about size bytes: headers and a body of
// 76-character lines, like a base64 attachment.
func Message(i, size int) []byte {
	var sb strings.Builder
	sb.Grow(size + 256)
	fmt.Fprintf(&sb, "From: sender@example.test\r\nTo: bulk@example.test\r\nSubject: bulk %d\r\n"+
		"Message-ID: <bulk-%d@example.test>\r\nContent-Type: application/octet-stream\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n", i, i)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	line := make([]byte, 78)
	for n := 0; sb.Len() < size; n++ {
		for j := range 76 {
			line[j] = alphabet[(n*7+j*13+i)%64]
		}
		line[76], line[77] = '\r', '\n'
		sb.Write(line)
	}
	return []byte(sb.String())
}

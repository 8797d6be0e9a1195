package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/internal/testcert"
)

// testCert makes a self-signed certificate for the given host names and
// returns it with its PEM form, for CA files and pools.
func testCert(t *testing.T, hosts ...string) (tls.Certificate, []byte) {
	t.Helper()
	cert, _, err := testcert.SelfSigned(hosts...)
	if err != nil {
		t.Fatal(err)
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
}

// tlsServer accepts TLS connections and writes a greeting.
func tlsServer(t *testing.T, cert tls.Certificate, maxVersion uint16) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: maxVersion})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { c.Write([]byte("* OK hi\r\n")); time.Sleep(100 * time.Millisecond); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func TestDialImplicitVerifiesWithCAFile(t *testing.T) {
	cert, pemBytes := testCert(t, "127.0.0.1")
	addr := tlsServer(t, cert, 0)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pemBytes, 0o600)
	roots, err := RootsWithCA(caFile)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := Dial(context.Background(), Endpoint{Addr: addr, TLS: Implicit, TLSConfig: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 9)
	if _, err := conn.Read(buf); err != nil || string(buf) != "* OK hi\r\n" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

func TestDialUntrustedCertificateNamesHost(t *testing.T) {
	cert, _ := testCert(t, "127.0.0.1")
	addr := tlsServer(t, cert, 0)
	_, err := Dial(context.Background(), Endpoint{Addr: addr, TLS: Implicit})
	if !errors.Is(err, ErrTLS) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err = %v, want ErrTLS naming %s", err, addr)
	}
}

func TestDialWrongHostName(t *testing.T) {
	cert, pemBytes := testCert(t, "mail.example.test")
	addr := tlsServer(t, cert, 0)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	_, err := Dial(context.Background(), Endpoint{Addr: addr, TLS: Implicit, TLSConfig: &tls.Config{RootCAs: pool}})
	if !errors.Is(err, ErrTLS) {
		t.Fatalf("err = %v, want ErrTLS for a certificate of another host", err)
	}
}

func TestTLS11IsRefused(t *testing.T) {
	cert, pemBytes := testCert(t, "127.0.0.1")
	addr := tlsServer(t, cert, tls.VersionTLS11)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	_, err := Dial(context.Background(), Endpoint{Addr: addr, TLS: Implicit, TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10}})
	if !errors.Is(err, ErrTLS) {
		t.Fatalf("err = %v, want TLS 1.1 refused", err)
	}
}

func TestDialUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err := Dial(context.Background(), Endpoint{Addr: addr, TLS: Implicit})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v", err)
	}
}

func TestHandshakeRespectsDeadline(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			time.Sleep(2 * time.Second) // never speaks TLS
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Dial(ctx, Endpoint{Addr: ln.Addr().String(), TLS: Implicit})
	if !errors.Is(err, ErrUnreachable) || time.Since(start) > time.Second {
		t.Fatalf("err = %v after %v, want ErrUnreachable at the deadline", err, time.Since(start))
	}
}

func TestClientConfig(t *testing.T) {
	c := ClientConfig(Endpoint{Addr: "imap.example.test:993"})
	if c.ServerName != "imap.example.test" || c.MinVersion != tls.VersionTLS12 {
		t.Fatalf("config %q %x", c.ServerName, c.MinVersion)
	}
	orig := &tls.Config{ServerName: "other", MinVersion: tls.VersionTLS13}
	c = ClientConfig(Endpoint{Addr: "x:1", TLSConfig: orig})
	if c == orig || c.ServerName != "other" || c.MinVersion != tls.VersionTLS13 {
		t.Fatal("endpoint config not cloned and kept")
	}
}

func TestRootsWithCAErrors(t *testing.T) {
	if _, err := RootsWithCA(filepath.Join(t.TempDir(), "missing.pem")); err == nil {
		t.Fatal("missing file accepted")
	}
	f := filepath.Join(t.TempDir(), "junk.pem")
	os.WriteFile(f, []byte("junk"), 0o600)
	if _, err := RootsWithCA(f); err == nil || !strings.Contains(err.Error(), "no PEM") {
		t.Fatalf("junk: %v", err)
	}
}

func TestDialRefusesUnknownTLSMode(t *testing.T) {
	for _, mode := range []TLSMode{"", "tsl"} {
		if _, err := Dial(context.Background(), Endpoint{Addr: "127.0.0.1:1", TLS: mode}); !errors.Is(err, ErrTLS) {
			t.Fatalf("mode %q: err = %v, want ErrTLS", mode, err)
		}
	}
}

func TestClientConfigAlwaysVerifies(t *testing.T) {
	c := ClientConfig(Endpoint{Addr: "x:1", TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	if c.InsecureSkipVerify {
		t.Fatal("an endpoint could turn certificate verification off")
	}
}

package testcert

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// handshake runs a TLS handshake over loopback TCP between a server with
// cfg and a client with client; it returns the client's error. (Over
// net.Pipe a client that rejects the certificate would block writing its
// alert while the server still writes its flight.)
func handshake(t *testing.T, cfg, client *tls.Config) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_ = tls.Server(c, cfg).Handshake() // fails when the client gives up; the client's error is what counts
	}()
	c, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Close(); <-done }()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return tls.Client(c, client).Handshake()
}

func TestServerConfigVerifiesForEachNameOnly(t *testing.T) {
	cfg, pool, err := ServerConfig(Loopback...)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x", cfg.MinVersion)
	}
	for _, name := range Loopback {
		if err := handshake(t, cfg, &tls.Config{RootCAs: pool, ServerName: name}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := handshake(t, cfg, &tls.Config{RootCAs: pool, ServerName: "mail.example.test"}); err == nil {
		t.Error("a name the certificate does not carry verified")
	}
	if err := handshake(t, cfg, &tls.Config{ServerName: "127.0.0.1"}); err == nil {
		t.Error("verified without the pool")
	}
}

func TestSelfSignedNamesAndLifetime(t *testing.T) {
	cert, _, err := SelfSigned("mail.example.test", "127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "mail.example.test" || len(leaf.IPAddresses) != 1 || leaf.IPAddresses[0].String() != "127.0.0.2" {
		t.Errorf("names %v %v", leaf.DNSNames, leaf.IPAddresses)
	}
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life > 26*time.Hour || !leaf.NotBefore.Before(time.Now()) {
		t.Errorf("valid %v to %v", leaf.NotBefore, leaf.NotAfter)
	}
	other, _, err := SelfSigned("mail.example.test")
	if err != nil {
		t.Fatal(err)
	}
	if other.Leaf.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
		t.Error("two certificates share a serial number")
	}
}

func TestSelfSignedNeedsAName(t *testing.T) {
	if _, _, err := SelfSigned(); err == nil {
		t.Fatal("a certificate for no host was made")
	}
}

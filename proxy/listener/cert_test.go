package listener

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSelfSignedCreatedOnceAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	cert, created, err := SelfSigned(dir)
	if err != nil || !created {
		t.Fatalf("first: created=%v err=%v", created, err)
	}
	leaf := cert.Leaf
	if leaf.NotAfter.Sub(leaf.NotBefore) < SelfSignedValidity {
		t.Errorf("validity %v", leaf.NotAfter.Sub(leaf.NotBefore))
	}
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "localhost" {
		t.Errorf("DNS names %v", leaf.DNSNames)
	}
	for _, ip := range []string{"127.0.0.1", "::1"} {
		if err := leaf.VerifyHostname(ip); err != nil {
			t.Errorf("not valid for %s: %v", ip, err)
		}
	}
	if err := leaf.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	for name, want := range map[string]os.FileMode{CertFileName: 0o644, KeyFileName: 0o600} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v err %v, want %v", name, st.Mode().Perm(), err, want)
		}
	}
	again, created, err := SelfSigned(dir)
	if err != nil || created {
		t.Fatalf("second: created=%v err=%v", created, err)
	}
	if again.Leaf.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Error("certificate regenerated instead of reused")
	}
}

func TestSelfSignedRenewedBeforeExpiry(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-SelfSignedValidity + 24*time.Hour) // expires tomorrow
	certPEM, keyPEM, err := newSelfSigned(old)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, CertFileName), certPEM, 0o644)
	os.WriteFile(filepath.Join(dir, KeyFileName), keyPEM, 0o600)
	cert, created, err := SelfSigned(dir)
	if err != nil || !created || time.Until(cert.Leaf.NotAfter) < 365*24*time.Hour {
		t.Fatalf("created=%v err=%v notAfter=%v", created, err, cert.Leaf.NotAfter)
	}
}

func TestSelfSignedDamagedIsAnError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, CertFileName), []byte("garbage"), 0o644)
	os.WriteFile(filepath.Join(dir, KeyFileName), []byte("garbage"), 0o600)
	if _, _, err := SelfSigned(dir); err == nil {
		t.Fatal("damaged certificate accepted or silently replaced")
	}
}

func TestCertificateFromFiles(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := SelfSigned(dir); err != nil {
		t.Fatal(err)
	}
	cert, created, err := Certificate(filepath.Join(dir, CertFileName), filepath.Join(dir, KeyFileName), "/nonexistent")
	if err != nil || created || cert.Leaf == nil {
		t.Fatalf("created=%v err=%v", created, err)
	}
	if _, _, err := Certificate(filepath.Join(dir, "missing.pem"), filepath.Join(dir, KeyFileName), ""); err == nil {
		t.Fatal("missing certificate file accepted")
	}
	if cfg := ServerTLSConfig(cert); cfg.MinVersion < 0x0303 || len(cfg.Certificates) != 1 {
		t.Fatalf("tls config = %+v", cfg)
	}
}

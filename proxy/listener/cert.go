package listener

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Self-signed certificate files in the state directory.
const (
	CertFileName = "cert.pem"
	KeyFileName  = "key.pem"
)

// SelfSignedValidity is how long a generated certificate is valid.
const SelfSignedValidity = 2 * 365 * 24 * time.Hour

// renewBefore: a stored certificate this close to expiry is replaced.
const renewBefore = 7 * 24 * time.Hour

// Certificate returns the proxy's TLS certificate: the configured
// certFile/keyFile when set, else the self-signed one in stateDir (created
// on first use). created reports that a new one was just generated, so the
// caller can tell the user their mail client will ask to accept it.
func Certificate(certFile, keyFile, stateDir string) (cert tls.Certificate, created bool, err error) {
	if certFile != "" || keyFile != "" {
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return cert, false, fmt.Errorf("load tls certificate: %w", err)
		}
		return cert, false, nil
	}
	return SelfSigned(stateDir)
}

// SelfSigned loads stateDir/cert.pem and key.pem, or generates them when
// they are missing, unreadable or about to expire.
func SelfSigned(stateDir string) (tls.Certificate, bool, error) {
	certPath := filepath.Join(stateDir, CertFileName)
	keyPath := filepath.Join(stateDir, KeyFileName)
	if cert, err := loadUsable(certPath, keyPath); err == nil {
		return cert, false, nil
	} else if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, errExpiring) {
		return tls.Certificate{}, false, fmt.Errorf("self-signed certificate in %s: %w (delete cert.pem and key.pem to make a new one)", stateDir, err)
	}
	if err := generate(stateDir, certPath, keyPath); err != nil {
		return tls.Certificate{}, false, err
	}
	cert, err := loadUsable(certPath, keyPath)
	return cert, err == nil, err
}

var errExpiring = errors.New("certificate expires soon")

func loadUsable(certPath, keyPath string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return cert, err
	}
	if time.Until(cert.Leaf.NotAfter) < renewBefore {
		return cert, errExpiring
	}
	return cert, nil
}

// generate writes a new key (0600) and certificate (0644). The key is
// written first, so a crash leaves no certificate without its key.
func generate(stateDir, certPath, keyPath string) error {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	certPEM, keyPEM, err := newSelfSigned(time.Now())
	if err != nil {
		return err
	}
	if err := writeAtomic(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return writeAtomic(certPath, certPEM, 0o644)
}

// newSelfSigned creates an ECDSA P-256 certificate for the names a local
// mail client uses to reach the proxy.
func newSelfSigned(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"oauthbridge (self-signed)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(SelfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// writeAtomic writes data to a temporary file with perm and renames it
// into place, so readers never see half a file.
func writeAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ServerTLSConfig returns the TLS configuration for the proxy's listeners
// and STARTTLS: cert, TLS 1.2 or later.
func ServerTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

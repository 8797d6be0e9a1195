package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// idleSessions is how many IMAP IDLE sessions stay open across a reload.
const idleSessions = 50

// TestReloadUnderLoad keeps 50 sessions in IDLE through the proxy,
// changes the IMAP upstream and the certificate, and reloads: every
// session keeps working on the old upstream, and new connections get the
// new upstream and the new certificate.
func TestReloadUnderLoad(t *testing.T) {
	w := newOpsWorld(t)
	w.seed(t, opsUser)
	certA, certB := writeCert(t, w.dir, "a"), writeCert(t, w.dir, "b")
	w.writeConfig(t, w.imap.Addr, certA.yaml)
	w.serve(t)
	if got := peerCert(t, w.addrs["imaps"]); !bytes.Equal(got, certA.der) {
		t.Fatal("imaps does not present the configured certificate")
	}

	idlers := openIdlers(t, w.addrs["imap"], idleSessions)
	second := imaptest.Start(t, imaptest.Options{Validate: w.idp.Validate, Users: []string{opsUser}, TLS: upstream.Plain})
	w.writeConfig(t, second.Addr, certB.yaml)
	w.reload(t, `"msg":"configuration reloaded"`)

	fresh := loginIMAP(t, w.addrs["imap"])
	if _, err := fresh.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("new session after the reload: %v", err)
	}
	if second.Logins() != 1 {
		t.Errorf("new upstream saw %d logins, want 1 (the new connection)", second.Logins())
	}
	if got := peerCert(t, w.addrs["imaps"]); !bytes.Equal(got, certB.der) {
		t.Error("a new TLS connection still gets the old certificate")
	}
	for i, c := range idlers {
		if err := c.stop(); err != nil {
			t.Errorf("session %d after the reload: %v", i, err)
		}
	}
	if w.imap.Logins() != idleSessions {
		t.Errorf("old upstream saw %d logins, want %d", w.imap.Logins(), idleSessions)
	}
	fams, _ := scrape(t, w.addrs["http"])
	if v := value(fams, "oauthbridge_config_reloads_total", map[string]string{"result": "ok"}); v != 1 {
		t.Errorf("reloads ok = %v", v)
	}
}

// TestReloadRejectsBrokenConfig: a file that does not validate is
// refused and logged with the key at fault; the running configuration
// keeps serving.
func TestReloadRejectsBrokenConfig(t *testing.T) {
	w := newOpsWorld(t)
	w.seed(t, opsUser)
	w.serve(t)
	w.writeConfig(t, w.imap.Addr, "limits: {max_line_bytes: 10}\n")
	w.reload(t, `"msg":"configuration reload rejected; the running configuration stays"`)
	if log := w.run.stderr.String(); !strings.Contains(log, "limits.max_line_bytes: must be at least 512") {
		t.Errorf("the rejection does not name the key:\n%s", log)
	}
	c := loginIMAP(t, w.addrs["imap"])
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("login after a rejected reload: %v", err)
	}
	w.writeConfig(t, w.imap.Addr, "limits: {max_connections: 7}\n")
	w.reload(t, `"msg":"configuration reloaded"`)
	if log := w.run.stderr.String(); !strings.Contains(log, `"keys":["limits.max_connections"]`) {
		t.Errorf("a restart-only change was not reported:\n%s", log)
	}
	fams, _ := scrape(t, w.addrs["http"])
	if v := value(fams, "oauthbridge_config_reloads_total", map[string]string{"result": "rejected"}); v != 1 {
		t.Errorf("reloads rejected = %v", v)
	}
}

// idler is one client sitting in IDLE.
type idler struct {
	c    *imapclient.Client
	idle *imapclient.IdleCommand
}

// stop ends IDLE and checks the session still answers.
func (i *idler) stop() error {
	if err := i.idle.Close(); err != nil {
		return err
	}
	if err := i.idle.Wait(); err != nil {
		return err
	}
	if err := i.c.Noop().Wait(); err != nil {
		return err
	}
	if _, err := i.c.Select("INBOX", nil).Wait(); err != nil {
		return err
	}
	return i.c.Logout().Wait()
}

// openIdlers logs in n sessions and puts each in IDLE. The first login
// runs alone: it pays for the password check (and upgrades the seeded
// record's cheap key derivation), which the others then find cached.
func openIdlers(t *testing.T, addr string, n int) []*idler {
	t.Helper()
	out := make([]*idler, n)
	var wg sync.WaitGroup
	for k := range out {
		if k == 1 {
			wg.Wait()
		}
		wg.Go(func() {
			c := loginIMAP(t, addr)
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				t.Errorf("select: %v", err)
				return
			}
			idle, err := c.Idle()
			if err != nil {
				t.Errorf("idle: %v", err)
				return
			}
			out[k] = &idler{c: c, idle: idle}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

func loginIMAP(t *testing.T, addr string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(opsUser, testPassword).Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	return c
}

// certFiles is a certificate written as PEM files.
type certFiles struct {
	yaml string // the tls: section naming them
	der  []byte
}

func writeCert(t *testing.T, dir, name string) certFiles {
	t.Helper()
	cert, _, err := imaptest.SelfSigned("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	return certFiles{yaml: "tls: {cert: " + certPath + ", key: " + keyPath + "}\n", der: cert.Certificate[0]}
}

// peerCert returns the certificate a new TLS connection is shown.
func peerCert(t *testing.T, addr string) []byte {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Raw
}

package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/listener"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

// ProxyOptions say how to run the oauthbridge child process.
type ProxyOptions struct {
	// Bin is the oauthbridge binary (see Build).
	Bin string
	// CPUs, when set, pins the child to these CPUs (taskset list syntax).
	CPUs string
	// MaxConnections is the proxy's connection limit.
	MaxConnections int
	// Accounts get a sealed grant in the store before the child starts,
	// each with a fresh access token.
	Accounts []Account
	// Env is added to the child's environment (GOGC=50, say).
	Env []string
}

// Proxy is a running oauthbridge child: the real binary, serving IMAP
// over implicit TLS, with its profiles on a loopback debug address.
type Proxy struct {
	// Addr is the imaps listener.
	Addr string
	// DebugAddr serves the Go runtime profiles (OAUTHBRIDGE_DEBUG_ADDR).
	DebugAddr string
	// TLS trusts the proxy's certificate.
	TLS *tls.Config
	// CertPEM is the proxy's certificate.
	CertPEM []byte
	// Dir holds the configuration, state and log.
	Dir string

	cmd  *exec.Cmd
	done chan struct{}
}

// Build compiles ./cmd/oauthbridge of the module at root into dir.
func Build(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "oauthbridge")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/oauthbridge")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/oauthbridge: %w\n%s", err, out)
	}
	return bin, nil
}

// StartProxy seals the accounts' grants into a fresh store, writes the
// configuration and starts the child; it is stopped at cleanup.
func StartProxy(tb testing.TB, w *World, o ProxyOptions) *Proxy {
	tb.Helper()
	p := &Proxy{Dir: tb.TempDir(), done: make(chan struct{})}
	state := filepath.Join(p.Dir, "state")
	must(tb, os.MkdirAll(state, 0o700))
	must(tb, seedStore(w, filepath.Join(state, "tokens.json"), o.Accounts))
	cert, _, err := listener.SelfSigned(state)
	must(tb, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	p.CertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw})
	p.TLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	addrs, err := freeAddrs(2)
	must(tb, err)
	p.Addr, p.DebugAddr = addrs[0], addrs[1]
	cfgPath, err := p.writeConfig(w, state, o)
	must(tb, err)
	must(tb, p.start(o, cfgPath, w.IdP.ClientSecret))
	tb.Cleanup(p.Stop)
	must(tb, p.waitReady(30*time.Second))
	return p
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// seedStore saves a grant per account, as `oauthbridge authorize` would,
// with the default (production) key derivation.
func seedStore(w *World, path string, accounts []Account) error {
	st, err := filestore.Open(path)
	if err != nil {
		return err
	}
	defer st.Close()
	br := broker.New(st, map[string]*broker.Provider{
		"lab": {Name: "lab", OAuth2: w.IdP.Config(""), HTTPClient: w.IdP.Client()}}, nil)
	for _, a := range accounts {
		if err := br.Save(context.Background(), a.Email, "lab", "", []byte(a.Password), w.IdP.Issue(a.Email)); err != nil {
			return err
		}
	}
	return nil
}

func (p *Proxy) writeConfig(w *World, state string, o ProxyOptions) (string, error) {
	idpPEM, err := w.idpCertPEM()
	if err != nil {
		return "", err
	}
	caFile := filepath.Join(p.Dir, "ca.pem")
	if err := os.WriteFile(caFile, append(idpPEM, w.UpCertPEM...), 0o600); err != nil {
		return "", err
	}
	conf := map[string]any{
		"state_dir": state,
		"listen":    map[string]string{"imaps": p.Addr},
		"providers": map[string]any{"lab": map[string]any{
			"token_url": w.IdP.TokenURL(), "auth_url": w.IdP.AuthURL(),
			"client_id": "oauthbridge-test", "client_secret": "env:BRIDGEBENCH_CLIENT_SECRET",
			"ca_file": caFile, "imap": map[string]string{"addr": w.Up.Addr, "tls": "implicit"},
		}},
		"accounts": []map[string]string{{"match": "*@example.test", "provider": "lab"}},
		"limits":   map[string]any{"max_connections": o.MaxConnections},
		"log":      map[string]string{"level": "info", "format": "json"},
	}
	data, err := json.MarshalIndent(conf, "", "  ") // JSON is YAML
	if err != nil {
		return "", err
	}
	path := filepath.Join(p.Dir, "oauthbridge.yaml")
	return path, os.WriteFile(path, data, 0o600)
}

// start runs the child. The client secret goes into its environment
// only, never into a file.
func (p *Proxy) start(o ProxyOptions, cfgPath, secret string) error {
	argv := []string{o.Bin, "serve", "--config", cfgPath}
	if o.CPUs != "" {
		argv = append([]string{"taskset", "-c", o.CPUs}, argv...)
	}
	logf, err := os.Create(filepath.Join(p.Dir, "oauthbridge.log"))
	if err != nil {
		return err
	}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(append(os.Environ(), o.Env...), "OAUTHBRIDGE_DEBUG_ADDR="+p.DebugAddr,
		"BRIDGEBENCH_CLIENT_SECRET="+secret)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start oauthbridge: %w", err)
	}
	go func() { p.cmd.Wait(); logf.Close(); close(p.done) }()
	return nil
}

func (p *Proxy) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("oauthbridge exited at start; see %s", filepath.Join(p.Dir, "oauthbridge.log"))
		default:
		}
		if reachable(p.Addr) && reachable(p.DebugAddr) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("oauthbridge did not start listening in time")
}

func reachable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Pid is the child's process id.
func (p *Proxy) Pid() int { return p.cmd.Process.Pid }

// Stop ends the child by its pid: SIGTERM, then SIGKILL after 15 s.
func (p *Proxy) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// freeAddrs picks n distinct free loopback ports.
func freeAddrs(n int) ([]string, error) {
	var out []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	return out, nil
}

//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Bridge is an oauthbridge daemon built from this tree and run as a child
// process with a configuration the harness writes.
type Bridge struct {
	Bin, Dir, ConfigPath string
	// Listener addresses on 127.0.0.1.
	IMAP, IMAPS, POP3, POP3S, SMTP, SMTPS, HTTP string
	// Up says which listener addresses accepted connections after Start.
	Up   map[string]bool
	proc *Proc
}

// RepoRoot finds the module root above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// BuildBridge builds ./cmd/oauthbridge into outDir (with -race when the
// suite itself runs with it) and returns the binary's path.
func BuildBridge(ctx context.Context, outDir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", fmt.Errorf("build oauthbridge: %w", err)
	}
	bin := filepath.Join(outDir, "oauthbridge")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/oauthbridge")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/oauthbridge: %w\n%s", err, out)
	}
	return bin, nil
}

// BridgeProvider is one provider entry of the proxy's configuration.
type BridgeProvider struct {
	Issuer, TokenURL, CAFile string
	IMAP, POP3, SMTP         Upstream
}

// Upstream is a mail server address and its TLS mode (implicit, starttls).
type Upstream struct{ Addr, TLS string }

// BridgeAccount maps a login (address or *@domain) to a provider.
type BridgeAccount struct{ Match, Provider string }

// NewBridge chooses the listeners (HTTP at httpAddr, which Dex already
// knows as the redirect URI's host) and writes the configuration.
func NewBridge(bin, dir, httpAddr string, dex *Dex, cert Leaf, providers map[string]BridgeProvider, accounts []BridgeAccount) (*Bridge, error) {
	b := &Bridge{Bin: bin, Dir: dir, ConfigPath: filepath.Join(dir, "oauthbridge.yaml"), HTTP: httpAddr}
	addrs, err := FreeAddrs(6)
	if err != nil {
		return nil, err
	}
	b.IMAP, b.IMAPS, b.POP3, b.POP3S, b.SMTP, b.SMTPS = addrs[0], addrs[1], addrs[2], addrs[3], addrs[4], addrs[5]
	provs := map[string]any{}
	for name, p := range providers {
		provs[name] = map[string]any{
			"issuer": p.Issuer, "token_url": p.TokenURL, "client_id": dex.ClientID,
			"client_secret": dex.ClientSecret, "scopes": Scopes, "ca_file": p.CAFile,
			"imap": upstreamConf(p.IMAP), "pop3": upstreamConf(p.POP3), "smtp": upstreamConf(p.SMTP),
		}
	}
	var accts []map[string]string
	for _, a := range accounts {
		accts = append(accts, map[string]string{"match": a.Match, "provider": a.Provider})
	}
	conf := map[string]any{
		"state_dir":  filepath.Join(dir, "state"),
		"listen":     map[string]string{"imap": b.IMAP, "imaps": b.IMAPS, "pop3": b.POP3, "pop3s": b.POP3S, "smtp": b.SMTP, "smtps": b.SMTPS, "http": b.HTTP},
		"public_url": "http://" + b.HTTP,
		"tls":        map[string]string{"cert": cert.CertFile, "key": cert.KeyFile},
		"providers":  provs,
		"accounts":   accts,
		"log":        map[string]string{"level": "debug", "format": "json"},
	}
	// JSON is YAML: no YAML library needed to write the file.
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bridge config: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	if err := os.WriteFile(b.ConfigPath, data, 0o600); err != nil {
		return nil, fmt.Errorf("bridge config: %w", err)
	}
	return b, nil
}

func upstreamConf(u Upstream) map[string]string {
	return map[string]string{"addr": u.Addr, "tls": u.TLS}
}

// Start runs "oauthbridge serve" and waits until the IMAP listeners
// accept; the other listeners get a short grace and Up records which came
// up, so scenarios for a front end that does not exist yet can skip.
func (b *Bridge) Start(ctx context.Context) error {
	p, err := StartProc("oauthbridge", filepath.Join(b.Dir, "oauthbridge.log"), b.Dir, nil,
		b.Bin, "serve", "--config", b.ConfigPath)
	if err != nil {
		return err
	}
	b.proc = p
	b.Up = map[string]bool{}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, a := range []string{b.IMAP, b.IMAPS} {
		if err := WaitTCP(wctx, p, a); err != nil {
			return fmt.Errorf("oauthbridge: %w\n--- oauthbridge log ---\n%s", err, p.Tail(4000))
		}
		b.Up[a] = true
	}
	gctx, gcancel := context.WithTimeout(ctx, 2*time.Second)
	defer gcancel()
	for _, a := range []string{b.POP3, b.POP3S, b.SMTP, b.SMTPS, b.HTTP} {
		b.Up[a] = WaitTCP(gctx, p, a) == nil
	}
	return nil
}

// Stop stops the daemon by its pid.
func (b *Bridge) Stop() { b.proc.Stop(10 * time.Second) }

// Restart stops and starts the daemon (its in-memory token cache is lost;
// the token store on disk is kept).
func (b *Bridge) Restart(ctx context.Context) error {
	b.Stop()
	return b.Start(ctx)
}

// LogTail returns the end of the daemon's log.
func (b *Bridge) LogTail(n int) string {
	if b == nil || b.proc == nil {
		return ""
	}
	return b.proc.Tail(n)
}

// Log returns the daemon's whole log (to check it holds no secrets).
func (b *Bridge) Log() string {
	data, _ := os.ReadFile(filepath.Join(b.Dir, "oauthbridge.log"))
	return string(data)
}

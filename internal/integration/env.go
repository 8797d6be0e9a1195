//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// EnvRequire names the variable that turns "servers missing" from a skip
// into a failure. CI sets it, so the suite can never pass by skipping.
const EnvRequire = "OAUTHBRIDGE_REQUIRE_INTEGRATION"

// Env is the running world the scenarios share: Dex, Dovecot with seeded
// mailboxes, the SMTP sink behind Dovecot's submission service, and the
// test CAs.
type Env struct {
	Dir string
	// CA signed Dovecot's and the proxy's certificates; OtherCA signed
	// nothing the suite serves (for the wrong-CA scenario).
	CA, OtherCA *CA
	Dex         *Dex
	// Token counts and can cut off traffic to Dex's token endpoint.
	Token   *TokenFront
	Dovecot *Dovecot
	Sink    *Sink
	// Mail is the seeded mailbox of each user, by address.
	Mail map[string]*Mailbox
	// BridgeHTTP is reserved for the proxy's HTTP listener (consent page,
	// OAuth callback), chosen early because Dex must know the redirect URI.
	BridgeHTTP string
	DexBin     string
	DovecotBin string
}

// Binaries finds Dex and Dovecot; the error says what to install.
func Binaries() (dex, dovecot string, err error) {
	dex = os.Getenv("OAUTHBRIDGE_DEX")
	if dex == "" {
		cache := os.Getenv("OAUTHBRIDGE_CACHE")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache", "oauthbridge")
		}
		found, _ := filepath.Glob(filepath.Join(cache, "dex-*", "dex"))
		sort.Strings(found)
		if len(found) > 0 {
			dex = found[len(found)-1]
		}
	}
	var missing []string
	if _, err := os.Stat(dex); dex != "" && err != nil {
		missing = append(missing, fmt.Sprintf("Dex at %s (%v)", dex, err))
	} else if dex == "" {
		missing = append(missing, "Dex (run .ci/build-dex, or set OAUTHBRIDGE_DEX)")
	}
	dovecot, lerr := exec.LookPath("dovecot")
	if lerr != nil {
		if _, serr := os.Stat("/usr/sbin/dovecot"); serr == nil {
			dovecot = "/usr/sbin/dovecot"
		} else {
			missing = append(missing, "Dovecot (run .ci/install-deps)")
		}
	}
	if len(missing) > 0 {
		return "", "", fmt.Errorf("missing %s", strings.Join(missing, " and "))
	}
	return dex, dovecot, nil
}

// Seeds says which users get which mailbox.
var Seeds = map[string]SeedSpec{
	"alice": FullSpec,
	"bob":   {Folders: map[string]int{"INBOX": 30, "Archive": 5, "Lists/golang-nuts": 3}, Large: 1},
}

// StartEnv starts the whole world in a new temporary directory. On error,
// whatever started is stopped again.
func StartEnv(ctx context.Context, dexBin, dovecotBin string) (e *Env, err error) {
	e = &Env{DexBin: dexBin, DovecotBin: dovecotBin, Mail: map[string]*Mailbox{}}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	if e.Dir, err = os.MkdirTemp("", "oauthbridge-it-"); err != nil {
		return e, fmt.Errorf("env: %w", err)
	}
	// Dovecot's mail processes run as another user: let it reach the homes.
	if err = os.Chmod(e.Dir, 0o755); err != nil {
		return e, fmt.Errorf("env: %w", err)
	}
	if err = e.startIdP(ctx); err != nil {
		return e, err
	}
	if err = e.startMail(ctx); err != nil {
		return e, err
	}
	return e, nil
}

func (e *Env) sub(name string) (string, error) {
	d := filepath.Join(e.Dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("env: %w", err)
	}
	return d, nil
}

func (e *Env) startIdP(ctx context.Context) error {
	dir, err := e.sub("dex")
	if err != nil {
		return err
	}
	addrs, err := FreeAddrs(2)
	if err != nil {
		return err
	}
	e.BridgeHTTP = addrs[1]
	var users []User
	for _, u := range Users {
		users = append(users, u)
	}
	e.Dex, err = StartDex(ctx, e.DexBin, dir, DexConfig{Addr: addrs[0], Users: users,
		RedirectURIs: []string{"http://" + e.BridgeHTTP + "/oauth/callback", "http://127.0.0.1", "http://127.0.0.1/", "/device/callback"}})
	if err != nil {
		return err
	}
	e.Token, err = StartTokenFront(e.Dex.URL)
	return err
}

func (e *Env) startMail(ctx context.Context) error {
	certs, err := e.sub("certs")
	if err != nil {
		return err
	}
	if e.CA, err = NewCA(certs, "lab"); err != nil {
		return err
	}
	if e.OtherCA, err = NewCA(certs, "other"); err != nil {
		return err
	}
	leaf, err := e.CA.Issue(certs, "dovecot", "mail.example.test")
	if err != nil {
		return err
	}
	if e.Sink, err = StartSink(); err != nil {
		return err
	}
	dir, err := e.sub("dovecot")
	if err != nil {
		return err
	}
	e.Dovecot, err = NewDovecot(dir, DovecotConfig{DexURL: e.Dex.URL, RelayAddr: e.Sink.Addr, Cert: leaf})
	if err != nil {
		return err
	}
	for name, u := range Users {
		spec, ok := Seeds[name]
		if !ok {
			spec = SmallSpec
		}
		if e.Mail[u.Email], err = SeedMaildir(e.Dovecot.Maildir(u.Email), u.Email, spec); err != nil {
			return err
		}
	}
	return e.Dovecot.Start(ctx, e.DovecotBin)
}

// Stop stops every server and removes the directory unless
// OAUTHBRIDGE_KEEP is set (then it says where the logs are).
func (e *Env) Stop() {
	if e == nil {
		return
	}
	if e.Dovecot != nil && e.Dovecot.proc != nil {
		e.Dovecot.Stop()
	}
	if e.Dex != nil && e.Dex.proc != nil {
		e.Dex.Stop()
	}
	if e.Token != nil {
		e.Token.Close()
	}
	if e.Sink != nil {
		e.Sink.Close()
	}
	if e.Dir == "" {
		return
	}
	if os.Getenv("OAUTHBRIDGE_KEEP") != "" {
		fmt.Fprintf(os.Stderr, "integration: kept %s\n", e.Dir)
		return
	}
	os.RemoveAll(e.Dir)
}

// Logs returns the tails of the servers' logs, for a failing test.
func (e *Env) Logs() string {
	var b strings.Builder
	if e.Dex != nil && e.Dex.proc != nil {
		b.WriteString("--- dex.log ---\n" + e.Dex.proc.Tail(4000) + "\n")
	}
	if e.Dovecot != nil {
		b.WriteString(e.Dovecot.LogTail(6000))
	}
	return b.String()
}

// waitFor polls cond every 100 ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cond()
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/internal/testidp"
)

// permLab is a state directory with a token file and a key, and a
// configuration that points at them.
func permLab(t *testing.T, inlineSecret bool) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	os.MkdirAll(state, 0o700)
	os.WriteFile(filepath.Join(state, "tokens.json"), []byte("{}"), 0o600)
	os.WriteFile(filepath.Join(state, "key.pem"), []byte("key"), 0o600)
	secret := "env:LAB_SECRET"
	if inlineSecret {
		secret = "inline-secret-value"
	}
	t.Setenv("LAB_SECRET", "from-env")
	yml := "state_dir: state\nproviders:\n  lab: {issuer: \"http://127.0.0.1:1\", client_id: x, client_secret: \"" + secret +
		"\", imap: {addr: \"127.0.0.1:1\", tls: plain}}\naccounts: [{match: \"*@example.test\", provider: lab}]\n"
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte(yml), 0o600)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, path
}

func TestPermissionsCheck(t *testing.T) {
	tests := []struct {
		name   string
		inline bool
		change func(cfg *config.Config, path string)
		want   string // "" means start
	}{
		{"all private", true, func(*config.Config, string) {}, ""},
		{"config with inline secret readable by all", true, func(_ *config.Config, p string) { os.Chmod(p, 0o644) },
			"readable by every user (mode 0644) and the configuration file holds providers.lab.client_secret"},
		{"config without inline secret readable by all", false, func(_ *config.Config, p string) { os.Chmod(p, 0o644) }, ""},
		{"token store readable by all", true, func(c *config.Config, _ string) { os.Chmod(c.Store.Path, 0o644) },
			"tokens.json is readable by every user (mode 0644) and the token store: chmod 600"},
		{"TLS key readable by all", true, func(c *config.Config, _ string) { os.Chmod(filepath.Join(c.StateDir, "key.pem"), 0o604) },
			"key.pem is readable by every user (mode 0604) and the TLS private key"},
		{"state dir writable by all", true, func(c *config.Config, _ string) { os.Chmod(c.StateDir, 0o777) },
			"may be written by other users (mode 0777): chmod 700"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, path := permLab(t, tc.inline)
			tc.change(cfg, path)
			err := checkPermissions(cfg, path, zap.NewNop())
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "inline-secret-value") {
				t.Fatal("the error shows the secret")
			}
		})
	}
}

// A state directory others may read is narrowed to 0700, with a warning.
func TestReadableStateDirIsNarrowed(t *testing.T) {
	cfg, path := permLab(t, false)
	os.Chmod(cfg.StateDir, 0o755)
	core, logs := observer.New(zap.WarnLevel)
	if err := checkPermissions(cfg, path, zap.New(core)); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(cfg.StateDir); st.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode %04o", st.Mode().Perm())
	}
	if logs.FilterMessageSnippet("narrowed to 0700").Len() != 1 {
		t.Fatalf("no warning: %v", logs.All())
	}
}

// serve refuses to start, saying why, when the token store is readable by
// every user.
func TestServeRefusesReadableTokenStore(t *testing.T) {
	dir := isolate(t)
	cfg := labConfig(t, dir, testidp.New(t))
	os.MkdirAll(filepath.Join(dir, "state"), 0o700)
	os.WriteFile(filepath.Join(dir, "state", "tokens.json"), []byte("{}"), 0o644)
	r := start(t, nil, nil, "serve", "--config", cfg)
	if c := r.wait(t); c != 1 || !strings.Contains(r.stderr.String(), "refusing to start") ||
		!strings.Contains(r.stderr.String(), "tokens.json is readable by every user") {
		t.Fatalf("exit %d:\n%s", c, r.stderr.String())
	}
}

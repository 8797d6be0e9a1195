package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/oauthbridge/oauthbridge/deploy"
	"github.com/oauthbridge/oauthbridge/internal/config"
)

// starterConfig turns the commented example into a file that behaves like
// the built-in default until edited: state_dir points at the default
// state directory, and the example providers and accounts are commented
// out (so a restart before editing does not talk to made-up providers).
func starterConfig(example []byte, stateDir string) []byte {
	var out bytes.Buffer
	section := ""
	for _, line := range strings.SplitAfter(string(example), "\n") {
		if top := topLevelKey(line); top != "" {
			section = top
		}
		switch {
		case section == "state_dir" && strings.HasPrefix(line, "state_dir:"):
			line = "state_dir: " + strconv.Quote(stateDir) + "\n"
		case (section == "providers" || section == "accounts") && !isComment(line):
			line = "#" + line
		}
		out.WriteString(line)
	}
	return out.Bytes()
}

// topLevelKey returns the key a line opens at the top level, or "".
func topLevelKey(line string) string {
	if line == "" || line[0] == ' ' || line[0] == '#' || line[0] == '\n' {
		return ""
	}
	key, _, ok := strings.Cut(line, ":")
	if !ok {
		return ""
	}
	return key
}

func isComment(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, "#")
}

// writeStarter writes the starter configuration to path unless a file is
// there already. It reports whether it wrote one.
func writeStarter(path, stateDir string) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("create config dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("write starter config: %w", err)
	}
	_, werr := f.Write(starterConfig(deploy.ExampleConfig, stateDir))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return false, fmt.Errorf("write starter config: %w", werr)
	}
	return true, nil
}

// firstRun is what the next-steps text needs to know.
type firstRun struct {
	stateDir     string
	configPath   string
	wroteStarter bool
	certCreated  bool
	addrs        map[string]string
}

// printNextSteps tells a new user what oauthbridge is doing and what to do
// next, with the real addresses it is listening on.
func printNextSteps(w io.Writer, fr firstRun) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("")
	p("oauthbridge is running with its built-in defaults.")
	p("")
	p("  State (token store, certificate): %s", fr.stateDir)
	if fr.certCreated {
		p("  A self-signed certificate was created there; your mail client will ask")
		p("  you once to accept it for the TLS ports.")
	}
	p("  No provider is configured yet, so no one can log in.")
	p("")
	p("Next steps:")
	if fr.wroteStarter {
		p("  1. Edit the starter configuration written to")
	} else {
		p("  1. Edit your configuration")
	}
	p("       %s", fr.configPath)
	p("     Uncomment a provider (microsoft365, outlook, google, or any OIDC provider),")
	p("     fill in the client_id you registered, add an accounts: entry for your")
	p("     address, then stop oauthbridge (Ctrl-C) and start `oauthbridge serve` again.")
	p("  2. Point your mail client (e.g. Thunderbird) at oauthbridge, with your")
	p("     e-mail address as user name and a password of your choice:")
	printClientSettings(w, fr.addrs)
	p("  3. Authorize once: the first login is refused with a link (Thunderbird")
	p("     shows it for IMAP). Open it, sign in at your provider, then log in")
	p("     again. Or, from this terminal: oauthbridge authorize you@example.com")
	p("")
}

func printClientSettings(w io.Writer, addrs map[string]string) {
	rows := []struct{ key, what string }{
		{"imaps", "IMAP, SSL/TLS"}, {"imap", "IMAP, STARTTLS"},
		{"pop3s", "POP3, SSL/TLS"}, {"pop3", "POP3, STARTTLS"},
		{"smtps", "SMTP, SSL/TLS"}, {"smtp", "SMTP, STARTTLS"},
	}
	for _, r := range rows {
		if a, ok := addrs[r.key]; ok {
			fmt.Fprintf(w, "       %-15s %s\n", r.what+":", a)
		}
	}
}

// defaultStarterPath is where a first run writes its starter file.
func defaultStarterPath() string { return config.DefaultConfigPath() }

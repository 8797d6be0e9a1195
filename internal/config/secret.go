package config

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Secret is a configuration value that must never be shown: a client
// secret or a database DSN. In the file it is a literal, "env:NAME" (read
// from the environment) or "file:/path" (read from a file that only its
// owner may read); Load replaces the reference with the value. Printing a
// Secret, with any verb, shows a placeholder.
type Secret string

// Redacted is what a Secret prints as.
const Redacted = "[redacted]"

// Value returns the secret itself. Callers must not log it.
func (s Secret) Value() string { return string(s) }

// String hides the value from fmt's %s and %v.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString hides the value from fmt's %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalYAML hides the value when a Config is written back out.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalText hides the value from encoding/json and friends.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// resolve replaces an env: or file: reference by the value it names. The
// error names the reference's source but never the value.
func (s Secret) resolve() (Secret, error) {
	v := string(s)
	switch {
	case strings.HasPrefix(v, "env:"):
		return secretFromEnv(strings.TrimPrefix(v, "env:"))
	case strings.HasPrefix(v, "file:"):
		return secretFromFile(strings.TrimPrefix(v, "file:"))
	}
	return s, nil
}

func secretFromEnv(name string) (Secret, error) {
	if name == "" {
		return "", fmt.Errorf(`"env:" needs a variable name, as in env:OAUTHBRIDGE_SECRET`)
	}
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return "", fmt.Errorf("environment variable %s is not set or empty", name)
	}
	return Secret(v), nil
}

func secretFromFile(path string) (Secret, error) {
	if path == "" {
		return "", fmt.Errorf(`"file:" needs a path, as in file:/etc/oauthbridge/secret`)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o044 != 0 {
		return "", fmt.Errorf("secret file %s is readable by group or others (mode %04o); chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return Secret(v), nil
}

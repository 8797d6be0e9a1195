package config

import (
	"strings"
	"testing"
	"time"
)

func TestOpsDefaultsAndSecret(t *testing.T) {
	c, err := Parse("", []byte("log: {level: info}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.ShutdownGrace != DefaultShutdownGrace || c.Admin.Password != "" {
		t.Errorf("defaults: grace %s, admin password set %v", c.ShutdownGrace, c.Admin.Password != "")
	}
	t.Setenv("OB_TEST_ADMIN", "correct horse battery")
	c, err = Parse("", []byte("admin: {password: \"env:OB_TEST_ADMIN\"}\nshutdown_grace: 90s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Admin.Password.Value() != "correct horse battery" || c.ShutdownGrace != 90*time.Second {
		t.Errorf("admin password not resolved or grace %s", c.ShutdownGrace)
	}
}

func TestOpsValidation(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"shutdown_grace: -1s\n", "c.yaml:1: shutdown_grace: must not be negative"},
		{"admin: {password: short}\n", "c.yaml:1: admin.password: must have at least 12 characters"},
		{"admin: {password: \"env:OB_SURELY_UNSET_ADMIN\"}\n", "admin.password: environment variable OB_SURELY_UNSET_ADMIN is not set"},
	} {
		_, err := Parse("c.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "short") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
}

package main

import (
	"strings"
	"testing"
)

// FuzzCodeFromRedirect feeds arbitrary pasted text to the redirect parser:
// it must never panic, and a code is only ever returned with the right
// state.
func FuzzCodeFromRedirect(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1/?code=abc&state=s",
		"http://127.0.0.1:8025/oauth/callback?state=s&code=x%20y",
		"code=c&state=s",
		"?error=access_denied&error_description=no&state=s",
		"%zz",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pasted string) {
		code, err := codeFromRedirect(pasted, "s")
		if err == nil && (code == "" || !strings.Contains(pasted, "s")) {
			t.Fatalf("accepted %q as code %q", pasted, code)
		}
	})
}

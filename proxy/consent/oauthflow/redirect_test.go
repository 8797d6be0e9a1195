package oauthflow

import (
	"errors"
	"strings"
	"testing"
)

func TestCodeFromRedirect(t *testing.T) {
	const state = "st-123"
	cases := []struct {
		pasted, code string
		err          error
	}{
		{"http://127.0.0.1/?code=abc&state=st-123", "abc", nil},
		{"  http://127.0.0.1:8025/oauth/callback?state=st-123&code=x%20y\r\n", "x y", nil},
		{"code=c&state=st-123", "c", nil},
		{"?code=c&state=st-123", "c", nil},
		{"http://127.0.0.1/#code=frag&state=st-123", "frag", nil},
		{"http://127.0.0.1/?code=abc&state=other", "", ErrStateMismatch},
		{"http://127.0.0.1/?code=abc", "", ErrStateMismatch},
		{"http://127.0.0.1/?state=st-123", "", ErrNoCode},
		{"http://127.0.0.1/?error=access_denied&state=st-123", "", ErrDenied},
		{"http://127.0.0.1/", "", ErrNotRedirect},
		{"hello there", "", ErrNotRedirect},
		{"%zz", "", ErrNotRedirect},
		{"", "", ErrNotRedirect},
		{"http://127.0.0.1/?code=a&state=st-123&" + strings.Repeat("x", MaxPasted), "", ErrNotRedirect},
	}
	for _, tc := range cases {
		code, err := CodeFromRedirect(tc.pasted, state)
		if code != tc.code || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("CodeFromRedirect(%.60q) = %q, %v; want %q, %v", tc.pasted, code, err, tc.code, tc.err)
		}
	}
	if _, err := CodeFromRedirect("code=c&state=", ""); err == nil {
		t.Error("an empty expected state matched")
	}
}

// FuzzCodeFromRedirect: whatever a user pastes, the parser never panics,
// returns a code only together with the expected state, and never puts
// the pasted code into an error text.
func FuzzCodeFromRedirect(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1/?code=abc&state=s",
		"http://127.0.0.1:8025/oauth/callback?state=s&code=x%20y",
		"code=c&state=s",
		"?error=access_denied&error_description=no&state=s",
		"http://127.0.0.1/#state=s&code=f",
		"%zz",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pasted string) {
		code, err := CodeFromRedirect(pasted, "s")
		if err == nil && (code == "" || !strings.Contains(pasted, "s")) {
			t.Fatalf("accepted %q as code %q", pasted, code)
		}
		if err != nil && code != "" {
			t.Fatalf("code %q with error %v", code, err)
		}
	})
}

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		id, account string
		aliases     []string
		want        bool
	}{
		{"Alice@Example.com", "alice@example.com", nil, true},
		{" alice@example.com ", "alice@example.com", nil, true},
		{"bob@example.com", "alice@example.com", nil, false},
		{"a.smith@corp.example", "alice@example.com", []string{"A.Smith@corp.example"}, true},
		{"", "alice@example.com", []string{""}, false},
		{"alice@example.com.evil", "alice@example.com", nil, false},
	} {
		if got := Matches(tc.id, tc.account, tc.aliases...); got != tc.want {
			t.Errorf("Matches(%q, %q, %q) = %v", tc.id, tc.account, tc.aliases, got)
		}
	}
}

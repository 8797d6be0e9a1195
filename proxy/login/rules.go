package login

import (
	"fmt"
	"strings"
)

// Rule is one `accounts:` entry: which login names go to which provider.
type Rule struct {
	// Match is an exact address or "*@domain".
	Match string
	// Provider names the provider.
	Provider string
	// UpstreamUser replaces the login name upstream (exact matches only).
	UpstreamUser string
}

// Canonical returns the form of a login name used as the store key:
// trimmed and lower-cased, because mail addresses are compared without
// regard to case by every provider oauthbridge fronts.
func Canonical(username string) string {
	return strings.ToLower(strings.TrimSpace(username))
}

// matches reports whether the canonical account is covered by r.
func (r Rule) matches(account string) bool {
	m := strings.ToLower(r.Match)
	if domain, ok := strings.CutPrefix(m, "*@"); ok {
		at := strings.LastIndexByte(account, '@')
		return at > 0 && account[at+1:] == domain
	}
	return account == m
}

// validate refuses rules that could never match or would match too much.
func (r Rule) validate() error {
	m := r.Match
	if m == "" || strings.ContainsAny(m, " \t\r\n") {
		return fmt.Errorf("account rule %q: not an address or *@domain", m)
	}
	if strings.Contains(strings.TrimPrefix(m, "*@"), "*") || !strings.Contains(m, "@") {
		return fmt.Errorf("account rule %q: only an exact address or *@domain is allowed", m)
	}
	return nil
}

// resolve finds the first rule matching username.
func resolve(rules []Rule, username string) (string, Rule, bool) {
	account := Canonical(username)
	if account == "" {
		return "", Rule{}, false
	}
	for _, r := range rules {
		if r.matches(account) {
			return account, r, true
		}
	}
	return "", Rule{}, false
}

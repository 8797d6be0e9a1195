package config

import "strings"

// Match finds the accounts entry for a login name, first match wins, as
// the proxy's login path does: exact addresses and *@domain rules,
// compared without regard to case. account is the canonical
// (trimmed, lower-case) name; upstreamUser is the name to present
// upstream (the entry's upstream_user, else the login name).
func (c *Config) Match(username string) (account, upstreamUser string, a *Account, ok bool) {
	account = strings.ToLower(strings.TrimSpace(username))
	if account == "" {
		return "", "", nil, false
	}
	for _, a := range c.Accounts {
		if a != nil && matches(a.Match, account) {
			upstreamUser = a.UpstreamUser
			if upstreamUser == "" {
				upstreamUser = account
			}
			return account, upstreamUser, a, true
		}
	}
	return "", "", nil, false
}

func matches(pattern, account string) bool {
	p := strings.ToLower(pattern)
	if domain, ok := strings.CutPrefix(p, "*@"); ok {
		at := strings.LastIndexByte(account, '@')
		return at > 0 && account[at+1:] == domain
	}
	return account == p
}

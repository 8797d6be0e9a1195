package login

import (
	"crypto/sha256"
	"net"
	"sync"
	"time"
)

// ThrottleConfig tunes failed-login throttling. Zero values take the
// defaults, which give these windows:
//
//   - Each source address (IPv6: its /64) and each account name may fail
//     5 times (Free) with no delay at all: typos cost nothing.
//   - The 6th failure locks the key for 1 s (Base), each further failure
//     doubles the lock: 1, 2, 4, ... s, capped at 15 min for a source and 5
//     min for an account. While locked, attempts are refused without
//     checking the password (no KDF runs) and do not extend the lock.
//   - Failures are forgotten 1 h after the last one (Forget).
//   - The same wrong password for the same account from the same source
//     within 5 min counts once: Thunderbird's PLAIN, LOGIN, then LOGIN
//     command with one typo, on every reconnect, is one mistake.
//   - A source that logged in to an account before (its usual address,
//     remembered for 30 days) is never held back by that account's lock, so
//     a flood of guesses from elsewhere does not keep the owner out. From
//     a new address the owner waits at most MaxAccount (5 min) per lock
//     while the flood goes on.
//   - A success clears the source's failures only when all of them were
//     for the account that succeeded, so an attacker cannot reset their
//     counter by logging in to an account of their own between guesses.
type ThrottleConfig struct {
	// Free is how many distinct failures a key may have before delays start
	// (default 5).
	Free int
	// Base is the first lockout; each further failure doubles it (default 1 s).
	Base time.Duration
	// MaxSource and MaxAccount cap the lockout (default 15 min for sources,
	// 5 min for accounts).
	MaxSource, MaxAccount time.Duration
	// Forget is how long a key's failures are remembered (default 1 h).
	Forget time.Duration
	// KnownFor is how long a source stays an account's usual address after
	// its last successful login (default 30 days).
	KnownFor time.Duration
	// MaxEntries bounds each table (default 100,000); the oldest entries go
	// first when it is full, so an attacker with many addresses cannot make
	// the tables grow without bound.
	MaxEntries int
}

// repeatWindow is how long the same wrong password counts as one mistake.
const repeatWindow = 5 * time.Minute

func (c *ThrottleConfig) defaults() {
	setDefault(&c.Free, 5)
	setDefault(&c.Base, time.Second)
	setDefault(&c.MaxSource, 15*time.Minute)
	setDefault(&c.MaxAccount, 5*time.Minute)
	setDefault(&c.Forget, time.Hour)
	setDefault(&c.KnownFor, 30*24*time.Hour)
	setDefault(&c.MaxEntries, 100_000)
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// throttle counts failed logins per source address and per account; see
// ThrottleConfig for the rules. Its tables are bounded, and every event
// that changes what a client experiences (a lock starting, an attempt
// refused) is reported through emit, outside the lock.
type throttle struct {
	cfg  ThrottleConfig
	now  func() time.Time
	emit func(ThrottleEvent)

	mu       sync.Mutex
	sources  map[string]*failures
	accounts map[string]*failures
	known    map[knownKey]time.Time // account+source that succeeded, and when
	// pending counts password checks in progress per source and per
	// account ("\x00"+account), so that concurrent guesses cannot all pass
	// the lock check before the first failure is recorded.
	pending map[string]int
}

// failures is one key's record.
type failures struct {
	count     int
	until     time.Time
	last      time.Time
	lastGuess [sha256.Size]byte
	// account is the one account a source's failures were for; mixed is
	// set once they were for several.
	account string
	mixed   bool
}

type knownKey struct{ account, source string }

func newThrottle(cfg ThrottleConfig, emit func(ThrottleEvent)) *throttle {
	cfg.defaults()
	if emit == nil {
		emit = func(ThrottleEvent) {}
	}
	return &throttle{cfg: cfg, now: time.Now, emit: emit, sources: map[string]*failures{}, pending: map[string]int{},
		accounts: map[string]*failures{}, known: map[knownKey]time.Time{}}
}

// sourceKey groups IPv6 sources by /64, since one host usually owns one.
func sourceKey(a net.Addr) string {
	var ip net.IP
	switch v := a.(type) {
	case *net.TCPAddr:
		ip = v.IP
	case nil:
		return ""
	default:
		host, _, err := net.SplitHostPort(a.String())
		if err != nil {
			return a.String()
		}
		ip = net.ParseIP(host)
	}
	if ip == nil {
		return ""
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// blocked reports whether a login for account from source must be refused
// without even checking the password, for how long, and which key holds
// it back ("source" or "account").
func (t *throttle) blocked(account, source string) (time.Duration, string, bool) {
	wait, kind, ok := t.check(account, source)
	if ok {
		key := source
		if kind == KindAccount {
			key = account
		}
		t.emit(ThrottleEvent{Kind: kind, Action: ActionRefused, Key: key, For: wait})
	}
	return wait, kind, ok
}

func (t *throttle) check(account, source string) (time.Duration, string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if f := t.sources[source]; f != nil && now.Before(f.until) {
		return f.until.Sub(now), KindSource, true
	}
	if account == "" || t.isKnown(account, source, now) {
		return 0, "", false
	}
	if f := t.accounts[account]; f != nil && now.Before(f.until) {
		return f.until.Sub(now), KindAccount, true
	}
	return 0, "", false
}

func (t *throttle) isKnown(account, source string, now time.Time) bool {
	at, ok := t.known[knownKey{account, source}]
	return ok && now.Sub(at) < t.cfg.KnownFor
}

// fail records a failed guess; guess identifies the password tried (an
// HMAC under a process-local key, never the password).
func (t *throttle) fail(account, source string, guess [sha256.Size]byte) {
	var events []ThrottleEvent
	t.mu.Lock()
	now := t.now()
	// The source's tag binds the account too: one common password sprayed
	// over many accounts is many guesses, not one repeated typo.
	if e, ok := t.bump(t.sources, source, account, sourceGuess(account, guess), now, t.cfg.MaxSource); ok {
		events = append(events, ThrottleEvent{Kind: KindSource, Action: ActionLocked, Key: source, Failures: e.count, For: e.until.Sub(now)})
	}
	if account != "" {
		if e, ok := t.bump(t.accounts, account, account, guess, now, t.cfg.MaxAccount); ok {
			events = append(events, ThrottleEvent{Kind: KindAccount, Action: ActionLocked, Key: account, Failures: e.count, For: e.until.Sub(now)})
		}
	}
	t.mu.Unlock()
	for _, e := range events {
		t.emit(e)
	}
}

func sourceGuess(account string, guess [sha256.Size]byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(guess[:])
	h.Write([]byte(account))
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}

// succeed remembers source as one of the account's usual addresses and
// forgives the source's failures if they were all for this account.
func (t *throttle) succeed(account, source string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.sources[source]; f != nil && !f.mixed && f.account == account {
		delete(t.sources, source)
	}
	k := knownKey{account, source}
	if _, ok := t.known[k]; !ok && len(t.known) >= t.cfg.MaxEntries {
		t.evictKnown(t.now())
	}
	t.known[k] = t.now()
}

// reserve admits one password check (a key derivation) for account from
// source, or refuses it when the checks already in progress could use up
// the failures still allowed: a source or account may have at most
// Free-minus-failures checks in flight, and one once past that, so a
// burst of concurrent guesses is held to the same budget as sequential
// ones. release must be called when the check has been recorded.
func (t *throttle) reserve(account, source string) (release func(), ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	acct := ""
	if account != "" && !t.isKnown(account, source, now) {
		acct = "\x00" + account
	}
	if t.full(t.sources[source], source, now) || (acct != "" && t.full(t.accounts[account], acct, now)) {
		return nil, false
	}
	keys := []string{source}
	if acct != "" {
		keys = append(keys, acct)
	}
	for _, k := range keys {
		t.pending[k]++
	}
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		for _, k := range keys {
			if t.pending[k]--; t.pending[k] <= 0 {
				delete(t.pending, k)
			}
		}
	}, true
}

// full reports whether key may not start another check now.
func (t *throttle) full(f *failures, key string, now time.Time) bool {
	count := 0
	if f != nil && now.Sub(f.last) <= t.cfg.Forget {
		count = f.count
	}
	return t.pending[key] >= max(t.cfg.Free-count, 1)
}

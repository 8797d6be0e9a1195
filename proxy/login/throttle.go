package login

import (
	"crypto/sha256"
	"net"
	"sync"
	"time"
)

// ThrottleConfig tunes failed-login throttling. Zero values take defaults.
type ThrottleConfig struct {
	// Free is how many distinct failures a key may have before delays start
	// (default 5).
	Free int
	// Base is the first lockout; each further failure doubles it (default 1 s).
	Base time.Duration
	// Max caps the lockout (default 15 min for sources, 5 min for accounts).
	MaxSource, MaxAccount time.Duration
	// Forget is how long a key's failures are remembered (default 1 h).
	Forget time.Duration
	// MaxEntries bounds each table (default 100,000); the oldest entries go
	// first when it is full, so an attacker with many addresses cannot make
	// the tables grow without bound.
	MaxEntries int
}

func (c *ThrottleConfig) defaults() {
	if c.Free <= 0 {
		c.Free = 5
	}
	if c.Base <= 0 {
		c.Base = time.Second
	}
	if c.MaxSource <= 0 {
		c.MaxSource = 15 * time.Minute
	}
	if c.MaxAccount <= 0 {
		c.MaxAccount = 5 * time.Minute
	}
	if c.Forget <= 0 {
		c.Forget = time.Hour
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = 100_000
	}
}

// throttle counts failed logins per source address and per account.
//
// Two rules keep it from punishing the innocent. A failure that repeats
// the same wrong password for the same account from the same source
// (Thunderbird tries PLAIN, then LOGIN, then the LOGIN command with one
// typo) counts once. And an account's lockout does not apply to a source
// that logged in to that account successfully before: an attacker
// hammering alice's account from elsewhere cannot keep alice out of her
// own mail, while the per-source limit still stops the attacker.
type throttle struct {
	cfg ThrottleConfig
	now func() time.Time

	mu       sync.Mutex
	sources  map[string]*failures
	accounts map[string]*failures
	known    map[knownKey]time.Time // account+source that succeeded
}

type failures struct {
	count     int
	until     time.Time
	last      time.Time
	lastGuess [sha256.Size]byte
}

type knownKey struct{ account, source string }

func newThrottle(cfg ThrottleConfig) *throttle {
	cfg.defaults()
	return &throttle{cfg: cfg, now: time.Now, sources: map[string]*failures{},
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
// without even checking the password, and for how long.
func (t *throttle) blocked(account, source string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if f := t.sources[source]; f != nil && now.Before(f.until) {
		return f.until.Sub(now), true
	}
	if account == "" {
		return 0, false
	}
	if _, ok := t.known[knownKey{account, source}]; ok {
		return 0, false
	}
	if f := t.accounts[account]; f != nil && now.Before(f.until) {
		return f.until.Sub(now), true
	}
	return 0, false
}

// fail records a failed guess (tag identifies the guessed password).
func (t *throttle) fail(account, source string, tag [sha256.Size]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.bump(t.sources, source, tag, now, t.cfg.MaxSource)
	if account != "" {
		t.bump(t.accounts, account, tag, now, t.cfg.MaxAccount)
	}
}

// succeed clears the source's failures and remembers it as one of the
// account's usual addresses.
func (t *throttle) succeed(account, source string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.sources, source)
	if len(t.known) >= t.cfg.MaxEntries {
		t.evictKnown()
	}
	t.known[knownKey{account, source}] = t.now()
}

func (t *throttle) bump(m map[string]*failures, key string, tag [sha256.Size]byte, now time.Time, max time.Duration) {
	f := m[key]
	if f != nil && now.Sub(f.last) > t.cfg.Forget {
		f = nil
	}
	if f == nil {
		if len(m) >= t.cfg.MaxEntries {
			t.evict(m, now)
		}
		f = &failures{}
		m[key] = f
	} else if f.lastGuess == tag && now.Sub(f.last) < 5*time.Minute {
		f.last = now // the same wrong password again: one mistake
		return
	}
	f.count++
	f.last, f.lastGuess = now, tag
	if over := f.count - t.cfg.Free; over > 0 {
		d := t.cfg.Base << min(over-1, 30)
		if d > max || d <= 0 {
			d = max
		}
		f.until = now.Add(d)
	}
}

// evict makes room in a full table: expired entries first, then an
// arbitrary sixteenth of the rest, so that a flood of new sources costs
// amortised constant time per insert instead of a scan each.
func (t *throttle) evict(m map[string]*failures, now time.Time) {
	for k, f := range m {
		if now.Sub(f.last) > t.cfg.Forget {
			delete(m, k)
		}
	}
	dropSome(m, len(m)-t.cfg.MaxEntries+t.cfg.MaxEntries/16)
}

func (t *throttle) evictKnown() {
	dropSome(t.known, len(t.known)-t.cfg.MaxEntries+t.cfg.MaxEntries/16)
}

// dropSome deletes n entries in map iteration order, which Go randomises.
func dropSome[K comparable, V any](m map[K]V, n int) {
	for k := range m {
		if n <= 0 {
			return
		}
		delete(m, k)
		n--
	}
}

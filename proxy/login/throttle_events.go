package login

import "time"

// Throttle event kinds: which table holds a client back.
const (
	KindSource  = "source"
	KindAccount = "account"
)

// Throttle event actions.
const (
	// ActionLocked: a failure started (or lengthened) a lock.
	ActionLocked = "locked"
	// ActionRefused: an attempt was refused unevaluated because of a lock.
	ActionRefused = "refused"
)

// ThrottleEvent is a change in what throttling does to clients, reported
// to ServiceConfig.OnThrottle (for metrics) and, for locks, logged as a
// warning. Kind and Action have a few fixed values and suit metric
// labels; Key (an address or an account name as typed) does not.
type ThrottleEvent struct {
	// Kind is KindSource or KindAccount.
	Kind string
	// Action is ActionLocked or ActionRefused.
	Action string
	// Key is the source address (an IPv6 source as its /64) or the
	// account name as typed, lower-cased.
	Key string
	// Failures is the key's count of distinct failures (ActionLocked).
	Failures int
	// For is the lock's length (ActionLocked) or what is left of it
	// (ActionRefused).
	For time.Duration
}

// ThrottleStats is a snapshot of the throttle's tables, for gauges.
type ThrottleStats struct {
	// Sources and Accounts count the keys with remembered failures.
	Sources, Accounts int
	// LockedSources and LockedAccounts count the keys locked right now.
	LockedSources, LockedAccounts int
	// Known counts remembered (account, usual source) pairs.
	Known int
}

// stats scans the tables; they are bounded (MaxEntries), so a scrape
// costs at most a few milliseconds.
func (t *throttle) stats() ThrottleStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	s := ThrottleStats{Sources: len(t.sources), Accounts: len(t.accounts), Known: len(t.known)}
	for _, f := range t.sources {
		if now.Before(f.until) {
			s.LockedSources++
		}
	}
	for _, f := range t.accounts {
		if now.Before(f.until) {
			s.LockedAccounts++
		}
	}
	return s
}

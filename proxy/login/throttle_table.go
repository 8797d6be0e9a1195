package login

import (
	"crypto/sha256"
	"time"
)

// bump counts one failure for key in m and reports the entry when this
// failure started a lock. A failure that repeats the key's last guess
// within repeatWindow only refreshes the entry.
func (t *throttle) bump(m map[string]*failures, key, account string, guess [sha256.Size]byte, now time.Time, max time.Duration) (*failures, bool) {
	f := m[key]
	if f != nil && now.Sub(f.last) > t.cfg.Forget {
		f = nil
	}
	if f == nil {
		if len(m) >= t.cfg.MaxEntries {
			t.evict(m, now)
		}
		f = &failures{account: account}
		m[key] = f
	} else if f.lastGuess == guess && now.Sub(f.last) < repeatWindow {
		f.last = now // the same wrong password again: one mistake
		return f, false
	}
	if f.account != account {
		f.mixed = true
	}
	f.count++
	f.last, f.lastGuess = now, guess
	over := f.count - t.cfg.Free
	if over <= 0 {
		return f, false
	}
	f.until = now.Add(lockFor(t.cfg.Base, over, max))
	return f, true
}

// lockFor is Base doubled for each failure past the free ones, capped.
func lockFor(base time.Duration, over int, max time.Duration) time.Duration {
	d := base << min(over-1, 30)
	if d > max || d <= 0 {
		return max
	}
	return d
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

func (t *throttle) evictKnown(now time.Time) {
	for k, at := range t.known {
		if now.Sub(at) >= t.cfg.KnownFor {
			delete(t.known, k)
		}
	}
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

package activity

import (
	"context"
	"maps"
	"net"
	"sync"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy"
)

// Tracker records open sessions and last logins. It is safe for
// concurrent use; the zero value is not usable, call New.
type Tracker struct {
	now func() time.Time

	mu    sync.Mutex
	open  map[*proxy.Session]*session
	last  map[string]time.Time // account -> last successful login
	dirty map[string]bool      // accounts whose last login is not flushed yet
}

// session is what the Tracker keeps about one open connection.
type session struct {
	listener string
	account  string // set once a login succeeded
	opened   time.Time
}

// New returns an empty Tracker.
func New() *Tracker {
	return &Tracker{now: time.Now, open: map[*proxy.Session]*session{},
		last: map[string]time.Time{}, dirty: map[string]bool{}}
}

// Wrap returns a Handler that serves connections with h and tells the
// Tracker when each one opens and ends.
func (t *Tracker) Wrap(h proxy.Handler) proxy.Handler { return tracked{t, h} }

type tracked struct {
	t    *Tracker
	next proxy.Handler
}

// ServeConn implements proxy.Handler.
func (h tracked) ServeConn(ctx context.Context, conn net.Conn, s *proxy.Session) {
	h.t.opened(s)
	defer h.t.closed(s)
	h.next.ServeConn(ctx, conn, s)
}

func (t *Tracker) opened(s *proxy.Session) {
	e := &session{listener: s.Listener, opened: t.now()}
	t.mu.Lock()
	t.open[s] = e
	t.mu.Unlock()
}

func (t *Tracker) closed(s *proxy.Session) {
	t.mu.Lock()
	delete(t.open, s)
	t.mu.Unlock()
}

// LoginDone is called by a front end, on the session's goroutine, when a
// login attempt ends; err is nil for a successful one, and then
// s.Account holds the canonical account.
func (t *Tracker) LoginDone(s *proxy.Session, err error) {
	if err != nil || s.Account == "" {
		return
	}
	account, now := s.Account, t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.open[s]; e != nil {
		e.account = account
	}
	t.last[account] = now
	t.dirty[account] = true
}

// Active returns the number of open, logged-in sessions by account.
func (t *Tracker) Active() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := map[string]int{}
	for _, e := range t.open {
		if e.account != "" {
			m[e.account]++
		}
	}
	return m
}

// Open returns the number of open connections, logged in or not.
func (t *Tracker) Open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.open)
}

// LastLogins returns a copy of the last successful login time of every
// account that logged in since this process started.
func (t *Tracker) LastLogins() map[string]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.last)
}

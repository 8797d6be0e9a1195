package proxy

import "time"

// LoginObserver hears how logins end, for metrics and the admin's view of
// who is logged in. It lives here rather than in each front end because
// every protocol reports the same two events and one implementation (the
// daemon's wiring) serves them all. Both calls run on the session's
// goroutine, so an observer may read s; they must be quick.
type LoginObserver interface {
	// LoginDone is called once per login attempt with its error (nil:
	// success, and s.Account is then the canonical account).
	LoginDone(s *Session, err error)
	// UpstreamDone is called after each upstream login (connect, TLS,
	// greeting, the protocol's authentication command) with its duration
	// and error.
	UpstreamDone(s *Session, d time.Duration, err error)
}

// ReportLogin tells o, when there is one, how a login attempt on s ended.
// Front ends call it so that an unset observer needs no check at each call.
func ReportLogin(o LoginObserver, s *Session, err error) {
	if o != nil {
		o.LoginDone(s, err)
	}
}

// ReportUpstream tells o, when there is one, how the upstream login that
// began at start ended.
func ReportUpstream(o LoginObserver, s *Session, start time.Time, err error) {
	if o != nil {
		o.UpstreamDone(s, time.Since(start), err)
	}
}

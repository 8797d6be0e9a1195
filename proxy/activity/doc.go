// Package activity keeps what only the running proxy knows about its
// users: which client sessions are open right now (for which account and
// listener) and when each account last logged in successfully. The admin
// status page and `oauthbridge accounts` read it.
//
// The login path itself does not write the last-login time to the token
// store: a write per login would cost a store round trip (and, for the
// file store, a file rewrite) on the hot path of every connection.
// Instead the Tracker remembers it in memory and Flush writes the times
// that changed, at most once per interval (Run) and when the daemon
// stops. A crash loses at most one interval of last-login times, nothing
// else.
//
// Invariants: the Tracker never holds a secret (accounts, listener names
// and times only); it reads a proxy.Session's fields only on the
// goroutine that serves the session (in Wrap and in LoginDone), so it
// never races the front end that writes them.
package activity

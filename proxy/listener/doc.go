// Package listener accepts client connections for one front end and owns
// their lifecycle: it bounds how many are open at once, gives each a
// proxy.Session (an id, the listener's name, the client's address and a
// logger carrying all three), runs the front end's handler, and writes
// exactly one summary line when the connection ends, whatever happened.
//
// It also provides the proxy's own TLS certificate: one loaded from the
// configuration, or a self-signed one (ECDSA P-256, for localhost,
// 127.0.0.1 and ::1) generated once in the state directory and reused, so
// that a mail client asked to accept it once keeps working.
//
// Every front end inherits two bounds on clients that have not logged in:
// open connections per source address (SourceLimiter, besides the total
// of Limiter), and the bytes a client may send before login
// (PreLoginBytes, noticed as over when the front end clears its login read
// deadline; see budgetConn).
//
// Invariants: a panic in a handler is recovered, logged without its value
// (it may hold a password) and closes only that connection; a connection
// over a limit is refused before any handler runs; Shutdown stops
// accepting at once and cancels the remaining sessions when its context
// ends, so a stop never waits on an IDLE that lasts for hours.
package listener

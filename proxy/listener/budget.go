package listener

import (
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// DefaultPreLoginBytes is the input a client may send before it has
// logged in when Server.PreLoginBytes is zero. A real client sends a few
// kilobytes (a TLS handshake, CAPABILITY, a login); a quarter of a MiB is
// generous for them and small for a flood.
const DefaultPreLoginBytes = 256 << 10

// ErrPreLoginBudget is the read error a client gets once it has sent more
// than the pre-login byte budget without logging in.
var ErrPreLoginBudget = errors.New("too much input before login")

// budgetConn counts what a client sends until it has logged in, and
// refuses to read past the budget.
//
// How it knows the login is over: every front end bounds the
// not-authenticated phase with a read deadline and must clear it (set a
// zero deadline) before it relays, or the relay would be cut at the login
// timeout. Clearing the read deadline therefore lifts the budget, and any
// front end, present or future, gets the budget by construction. The
// listener's own implicit-TLS handshake sets its deadlines on the raw
// connection, below this one, so it lifts nothing.
type budgetConn struct {
	net.Conn
	left      int64 // only touched by Read, which runs in one goroutine before login
	lifted    atomic.Bool
	exhausted atomic.Bool
}

func newBudgetConn(c net.Conn, budget int64) net.Conn {
	if budget < 0 {
		return c
	}
	if budget == 0 {
		budget = DefaultPreLoginBytes
	}
	return &budgetConn{Conn: c, left: budget}
}

// Read reads at most what is left of the budget until it is lifted.
func (c *budgetConn) Read(p []byte) (int, error) {
	if c.lifted.Load() {
		return c.Conn.Read(p)
	}
	if c.left <= 0 {
		c.exhausted.Store(true)
		return 0, ErrPreLoginBudget
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}

// SetDeadline lifts the budget when it clears the read deadline.
func (c *budgetConn) SetDeadline(t time.Time) error {
	c.liftIfZero(t)
	return c.Conn.SetDeadline(t)
}

// SetReadDeadline lifts the budget when it clears the read deadline.
func (c *budgetConn) SetReadDeadline(t time.Time) error {
	c.liftIfZero(t)
	return c.Conn.SetReadDeadline(t)
}

func (c *budgetConn) liftIfZero(t time.Time) {
	if t.IsZero() {
		c.lifted.Store(true)
	}
}

// CloseWrite half-closes the underlying connection, so that the relay's
// end-of-stream handling sees through the wrapper.
func (c *budgetConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// overBudget reports whether c is a budgetConn whose client hit the limit.
func overBudget(c net.Conn) bool {
	bc, ok := c.(*budgetConn)
	return ok && bc.exhausted.Load()
}

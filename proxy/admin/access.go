package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"sync"
	"time"
)

// adminUser is the user name of HTTP basic authentication.
const adminUser = "admin"

// Failed-password limit: at most maxFailures per failureWindow for all
// remote clients together, so a guesser gets a handful of tries a minute.
const (
	maxFailures   = 10
	failureWindow = time.Minute
)

// gate decides who may see the page.
type gate struct {
	password string

	mu       sync.Mutex
	failures int
	window   time.Time
	now      func() time.Time
}

// verdict is the gate's answer for one request.
type verdict int

const (
	allow verdict = iota
	askPassword
	loopbackOnly
	tooMany
)

func (g *gate) check(r *http.Request) verdict {
	if fromLoopback(r) && !forwarded(r) {
		return allow
	}
	if g.password == "" {
		return loopbackOnly
	}
	if g.limited() {
		return tooMany
	}
	user, pw, ok := r.BasicAuth()
	if ok && user == adminUser && equal(pw, g.password) {
		return allow
	}
	if ok {
		g.fail()
	}
	return askPassword
}

// equal compares in constant time (hashing first makes the lengths
// equal too).
func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

func (g *gate) limited() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.clock().Sub(g.window) > failureWindow {
		g.failures, g.window = 0, g.clock()
	}
	return g.failures >= maxFailures
}

func (g *gate) fail() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failures++
}

func (g *gate) clock() time.Time {
	if g.now != nil {
		return g.now()
	}
	return time.Now()
}

// fromLoopback reports whether the TCP peer is this machine.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// forwarded reports whether a proxy on this machine passed the request
// on: then loopback says nothing about where it came from.
func forwarded(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	return false
}

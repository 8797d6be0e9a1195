package listener

import (
	"net"
	"sync"
)

// SourceLimiter bounds the open connections per client address (an IPv6
// client by its /64, which one host usually owns), so that one client
// cannot take all of the Limiter's slots. One SourceLimiter may be shared
// by several Servers to bound a client across all of them. It holds an
// entry only per address with an open connection, so its memory is
// bounded by the connections themselves.
type SourceLimiter struct {
	max  int
	mu   sync.Mutex
	open map[string]int
}

// NewSourceLimiter returns a SourceLimiter allowing n connections per
// source (at least 1).
func NewSourceLimiter(n int) *SourceLimiter {
	return &SourceLimiter{max: max(n, 1), open: map[string]int{}}
}

// TryAcquire takes a slot for addr's source if it has one free. A nil
// limiter always succeeds. Release with the returned key.
func (l *SourceLimiter) TryAcquire(addr net.Addr) (string, bool) {
	if l == nil {
		return "", true
	}
	key := sourceKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] >= l.max {
		return key, false
	}
	l.open[key]++
	return key, true
}

// Release frees a slot taken by TryAcquire.
func (l *SourceLimiter) Release(key string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] <= 1 {
		delete(l.open, key)
		return
	}
	l.open[key]--
}

// Open reports how many connections key's source has open.
func (l *SourceLimiter) Open(key string) int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open[key]
}

// sourceKey names a client's source: its IPv4 address, or its IPv6 /64.
func sourceKey(a net.Addr) string {
	var ip net.IP
	if t, ok := a.(*net.TCPAddr); ok {
		ip = t.IP
	} else if a != nil {
		host, _, err := net.SplitHostPort(a.String())
		if err != nil {
			return a.String()
		}
		ip = net.ParseIP(host)
	}
	switch {
	case ip == nil:
		return ""
	case ip.To4() != nil:
		return ip.To4().String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

//go:build integration

package integration

import (
	"fmt"
	"io"
	"net"
	"sync"
)

// Forwarder relays TCP connections from its own 127.0.0.1 address to a
// target, and can be switched off: then its port refuses connections and
// open relays are cut, which to the proxy looks exactly like the mail
// server going down, without stopping the server other scenarios use.
type Forwarder struct {
	Addr   string
	target string

	mu    sync.Mutex
	l     net.Listener
	conns map[net.Conn]struct{}
}

// StartForwarder forwards a free local port to target.
func StartForwarder(target string) (*Forwarder, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("forwarder: %w", err)
	}
	f := &Forwarder{Addr: l.Addr().String(), target: target, l: l, conns: map[net.Conn]struct{}{}}
	go f.serve(l)
	return f, nil
}

func (f *Forwarder) serve(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go f.relay(c)
	}
}

func (f *Forwarder) relay(c net.Conn) {
	up, err := net.Dial("tcp", f.target)
	if err != nil {
		c.Close()
		return
	}
	if !f.track(c, up) {
		return
	}
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	<-done
	c.Close()
	up.Close()
	f.untrack(c, up)
}

func (f *Forwarder) track(cs ...net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.l == nil {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		f.conns[c] = struct{}{}
	}
	return true
}

func (f *Forwarder) untrack(cs ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cs {
		delete(f.conns, c)
	}
}

// SetDown refuses new connections and cuts open ones (down), or listens
// again on the same address (up).
func (f *Forwarder) SetDown(down bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if down {
		if f.l != nil {
			f.l.Close()
			f.l = nil
		}
		for c := range f.conns {
			c.Close()
		}
		return nil
	}
	if f.l != nil {
		return nil
	}
	l, err := net.Listen("tcp", f.Addr)
	if err != nil {
		return fmt.Errorf("forwarder: reopen: %w", err)
	}
	f.l = l
	go f.serve(l)
	return nil
}

// Close stops forwarding for good.
func (f *Forwarder) Close() { _ = f.SetDown(true) }

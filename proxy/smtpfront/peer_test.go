package smtpfront

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// peerStep is one turn of a scripted upstream: the line it expects from
// the proxy (nil for the greeting), the bytes it answers, and whether it
// then starts TLS.
type peerStep struct {
	expect  func(string) bool
	reply   string
	upgrade bool
	hangup  bool
}

func exact(want string) func(string) bool { return func(l string) bool { return l == want } }

func prefix(p string) func(string) bool {
	return func(l string) bool { return strings.HasPrefix(l, p) }
}

// peer is a scripted upstream server for one connection.
type peer struct {
	t     testing.TB
	ln    net.Listener
	tls   *tls.Config
	roots *tls.Config
	done  chan struct{}

	mu    sync.Mutex
	lines []string
}

// startPeer runs steps for the first connection. With withTLS its
// endpoint says STARTTLS and a step may upgrade with a test certificate.
func startPeer(t testing.TB, steps []peerStep, withTLS bool) *peer {
	t.Helper()
	return startPeerN(t, steps, withTLS, 1)
}

// startPeerN runs steps for each of the first n connections, one after
// the other.
func startPeerN(t testing.TB, steps []peerStep, withTLS bool, n int) *peer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, ln: ln, done: make(chan struct{})}
	if withTLS {
		p.tls, p.roots = testTLS(t)
	}
	go p.serve(steps, n)
	t.Cleanup(func() { ln.Close(); <-p.done })
	return p
}

func (p *peer) endpoint() upstream.Endpoint {
	mode := upstream.Plain
	if p.tls != nil {
		mode = upstream.StartTLS
	}
	return upstream.Endpoint{Addr: p.ln.Addr().String(), TLS: mode, TLSConfig: p.roots}
}

func (p *peer) serve(steps []peerStep, n int) {
	defer close(p.done)
	for range n {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.run(c, steps)
	}
}

func (p *peer) run(c net.Conn, steps []peerStep) {
	defer func() { c.Close() }()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	for i, s := range steps {
		if s.expect != nil {
			l, err := r.ReadString('\n')
			if err != nil {
				p.t.Errorf("peer step %d: %v", i, err)
				return
			}
			l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
			p.record(l)
			if !s.expect(l) {
				p.t.Errorf("peer step %d: unexpected line %.80q", i, l)
				return
			}
		}
		io.WriteString(c, s.reply)
		if s.hangup {
			return
		}
		if s.upgrade {
			tc := tls.Server(c, p.tls)
			if err := tc.Handshake(); err != nil {
				p.t.Errorf("peer handshake: %v", err)
				return
			}
			c, r = tc, bufio.NewReader(tc)
		}
	}
	// Wait for the proxy to hang up, keeping what else it sent.
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return
		}
		p.record(strings.TrimRight(l, "\r\n"))
	}
}

func (p *peer) record(l string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, l)
}

// wait returns every line the proxy sent, once the connection is over.
func (p *peer) wait() []string {
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

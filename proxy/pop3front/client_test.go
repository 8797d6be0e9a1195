package pop3front

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// startFrontend serves srv on a loopback listener, as the daemon's
// listener would, until the test ends.
func startFrontend(t *testing.T, srv *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				srv.ServeConn(ctx, c, newSession(srv))
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); cancel(); wg.Wait() })
	return ln.Addr().String()
}

// popClient is a minimal POP3 client for end-to-end tests.
type popClient struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialPOP(t *testing.T, addr string) *popClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return newPopClient(t, c)
}

func newPopClient(t *testing.T, c net.Conn) *popClient {
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &popClient{t: t, c: c, r: bufio.NewReader(c)}
}

// line reads one line, CRLF included.
func (p *popClient) line() string {
	p.t.Helper()
	l, err := p.r.ReadString('\n')
	if err != nil {
		p.t.Fatalf("read: %v (got %q)", err, l)
	}
	return l
}

// cmd sends a command and returns its status line, which must start with
// wantPrefix.
func (p *popClient) cmd(line, wantPrefix string) string {
	p.t.Helper()
	if _, err := io.WriteString(p.c, line+"\r\n"); err != nil {
		p.t.Fatal(err)
	}
	status := p.line()
	if !strings.HasPrefix(status, wantPrefix) {
		p.t.Fatalf("%s: got %q, want %q...", strings.Fields(line)[0], status, wantPrefix)
	}
	return status
}

// body reads a multi-line response body and undoes the dot-stuffing,
// keeping CRLFs exactly.
func (p *popClient) body() []byte {
	p.t.Helper()
	var out bytes.Buffer
	atStart := true
	for {
		l, err := p.r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			p.t.Fatalf("body: %v", err)
		}
		if atStart && string(l) == ".\r\n" {
			return out.Bytes()
		}
		if atStart && l[0] == '.' {
			l = l[1:]
		}
		out.Write(l)
		atStart = err == nil
	}
}

// startTLS sends STLS and completes the handshake, trusting pool.
func (p *popClient) startTLS(pool *x509.CertPool) {
	p.t.Helper()
	p.cmd("STLS", "+OK")
	tc := tls.Client(p.c, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err := tc.Handshake(); err != nil {
		p.t.Fatal(err)
	}
	p.c, p.r = tc, bufio.NewReader(tc)
}

package securitytest

import (
	"bufio"
	"bytes"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// firehose is an IMAP upstream that logs anyone in and then answers any
// command with an endless stream of data, counting what it got written.
type firehose struct {
	ln      net.Listener
	written atomic.Int64
}

func startFirehose(t *testing.T) *firehose {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &firehose{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *firehose) serve(c net.Conn) {
	defer c.Close()
	c.Write([]byte("* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR] firehose\r\n"))
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		tag, rest, _ := strings.Cut(line, " ")
		switch {
		case strings.HasPrefix(rest, "AUTHENTICATE"):
			c.Write([]byte(tag + " OK [CAPABILITY IMAP4rev1] logged in\r\n"))
		case strings.HasPrefix(rest, "CAPABILITY"):
			c.Write([]byte("* CAPABILITY IMAP4rev1\r\n" + tag + " OK done\r\n"))
		default:
			f.stream(c)
			return
		}
	}
}

// stream writes until the connection fails or 1 GiB went out.
func (f *firehose) stream(c net.Conn) {
	chunk := bytes.Repeat([]byte("* 1 FETCH (BODY[] \"0123456789abcdef0123456789abcdef\")\r\n"), 1024)
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	for f.written.Load() < 1<<30 {
		n, err := c.Write(chunk)
		f.written.Add(int64(n))
		if err != nil {
			return
		}
	}
}

// After login the proxy relays without buffering more than one read per
// direction: a client that stops reading stops the upstream (its writes
// block once the socket buffers are full), and the proxy's heap does not
// grow with what the upstream would send.
func TestClientThatStopsReadingDoesNotGrowTheProxy(t *testing.T) {
	f := startFirehose(t)
	s := newStack(t, options{imapUpstream: &upstream.Endpoint{Addr: f.ln.Addr().String(), TLS: upstream.Plain}})
	s.authorize(t, alice, password)
	fe := frontEnds[0]
	c := s.dial(t, fe)
	if a := fe.login(c, alice, password); !okLogin(a) {
		t.Fatalf("login: %q", a)
	}
	heap := watchHeap()
	c.send("a2 FETCH 1 BODY[]") // and read nothing more
	var stalled int64
	for still := 0; still < 10; {
		time.Sleep(100 * time.Millisecond)
		if w := f.written.Load(); w == stalled {
			still++
		} else {
			stalled, still = w, 0
		}
	}
	growth, allocated := heap.end()
	t.Logf("upstream stalled after %.1f MiB (socket buffers on both sides); proxy heap growth %.2f MiB, %.2f MiB allocated",
		float64(stalled)/mib, float64(growth)/mib, float64(allocated)/mib)
	if stalled >= 1<<30 {
		t.Fatal("the upstream never blocked: something reads without bound")
	}
	if growth > heapBound || allocated > heapBound {
		t.Fatalf("heap grew by %.1f MiB (%.1f MiB allocated) while the client did not read", float64(growth)/mib, float64(allocated)/mib)
	}
}

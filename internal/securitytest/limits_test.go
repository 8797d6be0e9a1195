package securitytest

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// heapBound is the growth allowed while a hostile client runs: generous
// against GC timing and the race detector, far below what the client
// sends.
const heapBound = 32 * mib

// A client that trickles one byte per second is cut off at the login
// timeout, whatever it is in the middle of.
func TestSlowClientIsCutAtLoginTimeout(t *testing.T) {
	const timeout = 2 * time.Second
	s := newStack(t, options{loginTimeout: timeout})
	for _, fe := range frontEnds {
		t.Run(fe.name, func(t *testing.T) {
			t.Parallel()
			c := s.dial(t, fe)
			start := time.Now()
			go func() {
				for _, b := range []byte("a1 LOGIN alice@example.test secret-and-slow\r\n") {
					if _, err := c.conn.Write([]byte{b}); err != nil {
						return
					}
					time.Sleep(time.Second)
				}
			}()
			c.conn.SetReadDeadline(time.Now().Add(4 * timeout))
			got, err := io.ReadAll(c.conn)
			took := time.Since(start)
			t.Logf("cut after %s (login timeout %s); last words %q", took.Round(10*time.Millisecond), timeout, lastLine(got))
			if isTimeout(err) || took > timeout+2*time.Second {
				t.Fatalf("a one-byte-per-second client was still connected after %s", took)
			}
		})
	}
}

// flood is a hostile client: it sends head, then body over and over until
// total bytes are sent or the server cuts it off, and returns what it got
// written.
func flood(t *testing.T, s *stack, fe frontEnd, head string, body []byte, total int64) int64 {
	t.Helper()
	c := s.dial(t, fe)
	c.conn.SetDeadline(time.Now().Add(60 * time.Second))
	go io.Copy(io.Discard, c.conn)
	sent, err := io.WriteString(c.conn, head)
	for int64(sent) < total && err == nil {
		var n int
		n, err = c.conn.Write(body)
		sent += n
	}
	if err == nil {
		t.Fatalf("the %s front end read all of %d MB without cutting the client off", fe.name, total/mib)
	}
	if isTimeout(err) {
		t.Fatalf("the %s front end stopped reading but never closed", fe.name)
	}
	return int64(sent)
}

// 100 MB of garbage before login, as over-long lines or as one endless
// line, and (IMAP) a 2 GB literal announced synchronising or not: each is
// cut off, and the heap does not grow with what the client sends.
func TestFloodBeforeLoginIsCutWithBoundedMemory(t *testing.T) {
	s := newStack(t, options{})
	lines := bytes.Repeat([]byte(strings.Repeat("x", 9000)+"\r\n"), 7)
	endless := bytes.Repeat([]byte("y"), 64<<10)
	type attack struct {
		name string
		fe   frontEnd
		head string
		body []byte
	}
	var attacks []attack
	for _, fe := range frontEnds {
		attacks = append(attacks, attack{fe.name + "/long lines", fe, "", lines},
			attack{fe.name + "/one endless line", fe, "", endless})
	}
	attacks = append(attacks,
		attack{"imap/2 GB literal", frontEnds[0], "a1 LOGIN alice@example.test {2147483648}\r\n", endless},
		attack{"imap/2 GB non-synchronising literal", frontEnds[0], "a1 LOGIN alice@example.test {2147483648+}\r\n", endless})
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			heap := watchHeap()
			start := time.Now()
			sent := flood(t, s, a.fe, a.head, a.body, 100*mib)
			growth, allocated := heap.end()
			t.Logf("cut after %.2f MiB sent (kernel buffers included) in %s; peak heap growth %.2f MiB, %.2f MiB allocated meanwhile",
				float64(sent)/mib, time.Since(start).Round(time.Millisecond), float64(growth)/mib, float64(allocated)/mib)
			if growth > heapBound || allocated > heapBound {
				t.Fatalf("heap grew by %.1f MiB (%.1f MiB allocated) while a client flooded", float64(growth)/mib, float64(allocated)/mib)
			}
		})
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func lastLine(b []byte) string {
	s := strings.TrimRight(string(b), "\r\n")
	return s[strings.LastIndex(s, "\n")+1:]
}

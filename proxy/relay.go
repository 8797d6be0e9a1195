package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// RelayBufferSize is the size of the pooled buffer a direction borrows
// while data flows. A TLS record carries at most 16 KiB of plaintext, so
// a larger buffer would not make reads any bigger.
const RelayBufferSize = 16 * 1024

// HalfCloseGrace is how long the other direction may keep going after one
// side has finished (for example to deliver the server's goodbye after a
// client's LOGOUT) before both connections are closed.
var HalfCloseGrace = 30 * time.Second

var bufPool = sync.Pool{New: func() any { b := make([]byte, RelayBufferSize); return &b }}

// lent counts pooled buffers in use, so that tests can check an idle
// relay holds none.
var lent atomic.Int64

// Peer is one side of a relay: the connection, and the reader to take its
// bytes from (see Drain; or the connection itself).
type Peer struct {
	Conn   net.Conn
	Reader io.Reader
}

// Drain returns a reader for relaying conn after a login read it through
// br: the bytes br still buffers (the client's pipelined commands, the
// server's data after its OK), then conn itself. br must read conn
// directly. The result does not refer to br, so once the caller drops
// br too, an idle session keeps no line buffer alive.
func Drain(br *bufio.Reader, conn net.Conn) io.Reader {
	n := br.Buffered()
	if n == 0 {
		return conn
	}
	rest, _ := br.Peek(n)
	return io.MultiReader(bytes.NewReader(bytes.Clone(rest)), conn)
}

// Relay copies bytes both ways between client and upstream until both
// directions end, ctx is cancelled, or one direction ends and the other
// does not follow within HalfCloseGrace. It counts bytes in s and closes
// both connections before returning.
//
// The client-to-upstream direction runs on the caller's goroutine and
// the other on one more: an idle session costs two goroutines, each
// parked in a one-byte read, holding no buffer. (Running both directions
// on fresh goroutines, with the caller only waiting, would let the
// caller's stack shrink from 16 KiB to 8 but adds a third goroutine of
// 4 KiB; cmd/bridgebench measured no difference in resident memory.)
func Relay(ctx context.Context, s *Session, client, up Peer) error {
	r := &relay{client: client.Conn, up: up.Conn}
	stop := context.AfterFunc(ctx, r.closeBoth)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.ended(pipe(client.Conn, up.Reader, up.Conn, &s.BytesOut, r.waiting[1:]))
	}()
	r.ended(pipe(up.Conn, client.Reader, client.Conn, &s.BytesIn, r.waiting[:1]))
	<-done
	r.closeBoth()
	if !stop() {
		return ctx.Err()
	}
	return r.result()
}

// relay is the shared state of a Relay's two directions.
type relay struct {
	client, up net.Conn
	// waiting holds the byte each direction waits for.
	waiting [2]byte

	closeOnce sync.Once

	mu    sync.Mutex
	ends  int
	first error
	grace *time.Timer
}

// ended records the end of one direction. The first to end decides: a
// broken direction (reset, write error) ends both at once, since nothing
// more can be delivered reliably; a clean end (pipe passed end-of-stream
// on) gives the other direction HalfCloseGrace to finish too, for the
// server's BYE after a client's LOGOUT, say.
func (r *relay) ended(err error) {
	r.mu.Lock()
	r.ends++
	switch {
	case r.ends > 1:
		if r.grace != nil {
			r.grace.Stop()
		}
	case err != nil:
		r.first = err
	default:
		r.grace = time.AfterFunc(HalfCloseGrace, r.closeBoth)
	}
	broken := r.ends == 1 && err != nil
	r.mu.Unlock()
	if broken {
		r.closeBoth()
	}
}

// closeBoth closes both connections once. Closing a TLS connection may
// wait (up to crypto/tls's 5 s) to send close_notify, so no lock is held.
func (r *relay) closeBoth() {
	r.closeOnce.Do(func() {
		r.client.Close()
		r.up.Close()
	})
}

func (r *relay) result() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first
}

// pipe copies src to dst, counting bytes as they go so that metrics see
// a long session's traffic before it ends. It waits for data by reading
// a single byte into first, and borrows a pooled buffer only once data
// has come (a TLS connection decrypts the whole record on that read and
// hands over the rest on the next, so this costs one extra call per
// burst, not a system call). At a clean end of src it half-closes dst,
// so the peer sees end-of-stream in that direction only.
func pipe(dst net.Conn, src io.Reader, srcConn net.Conn, n *atomic.Int64, first []byte) error {
	for {
		nr, rerr := src.Read(first)
		var werr error
		if nr > 0 && rerr == nil {
			rerr, werr = flow(dst, src, srcConn, n, first[:nr])
		} else if nr > 0 {
			werr = write(dst, first[:nr], n)
		}
		if werr != nil {
			return werr
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				closeWrite(dst)
				return nil
			}
			return rerr
		}
	}
}

// flow relays while data keeps coming, through a pooled buffer that
// starts with head, the byte pipe waited for: the rest of its TLS record
// then joins it, so each record still goes out in one write. It returns
// when a read comes back short of a full buffer (a pause is likely) or
// fails.
func flow(dst net.Conn, src io.Reader, srcConn net.Conn, n *atomic.Int64, head []byte) (rerr, werr error) {
	bp := bufPool.Get().(*[]byte)
	lent.Add(1)
	defer func() { lent.Add(-1); bufPool.Put(bp) }()
	buf := *bp
	m := copy(buf, head)
	// What already follows the waited-for byte (the rest of its TLS record)
	// joins it, but the byte must never wait for data that may not come: a
	// one-byte record, or a CR whose LF the peer sends only later, would
	// otherwise be held while the peer waits for an answer.
	nr, err := readNow(src, srcConn, buf[m:])
	m += nr
	for {
		full := m == len(buf)
		if m > 0 {
			if werr = write(dst, buf[:m], n); werr != nil {
				return nil, werr
			}
		}
		if err != nil || !full {
			return err, nil
		}
		m, err = src.Read(buf)
	}
}

// readNowWindow is how long readNow lets the network deliver what is on its
// way: long enough for the rest of a record already in the kernel, short
// enough that a lone byte goes out without a noticeable delay.
const readNowWindow = time.Millisecond

// readNow reads what src has without waiting longer than readNowWindow.
// A timeout is not an error: crypto/tls keeps a partly read record and
// resumes it on the next read.
func readNow(src io.Reader, conn net.Conn, p []byte) (int, error) {
	if err := conn.SetReadDeadline(time.Now().Add(readNowWindow)); err != nil {
		return 0, nil // the byte goes out alone
	}
	nr, err := src.Read(p)
	if derr := conn.SetReadDeadline(time.Time{}); derr != nil && err == nil {
		err = derr
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil
	}
	return nr, err
}

// WriteTimeout bounds one write to a peer. A client that stops reading
// (a zero TCP window) would otherwise pin the session's connections and
// goroutines forever, even after the other side has gone.
var WriteTimeout = 10 * time.Minute

func write(dst net.Conn, b []byte, n *atomic.Int64) error {
	if err := dst.SetWriteDeadline(time.Now().Add(WriteTimeout)); err != nil {
		return err
	}
	nw, err := dst.Write(b)
	n.Add(int64(nw))
	return err
}

// closeWrite half-closes conn where the connection type allows it (TCP,
// TLS), so the peer sees end-of-stream while the other direction drains.
func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

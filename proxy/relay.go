package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// RelayBufferSize is the size of the pooled buffer each direction borrows
// while copying. A TLS record carries at most 16 KiB of plaintext, so a
// larger buffer would not make reads any bigger.
const RelayBufferSize = 16 * 1024

// HalfCloseGrace is how long the other direction may keep going after one
// side has finished (for example to deliver the server's goodbye after a
// client's LOGOUT) before both connections are closed.
var HalfCloseGrace = 30 * time.Second

var bufPool = sync.Pool{New: func() any { b := make([]byte, RelayBufferSize); return &b }}

// Peer is one side of a relay: the connection, and the reader to take its
// bytes from (a buffered reader that may still hold bytes read ahead
// during login, or the connection itself).
type Peer struct {
	Conn   net.Conn
	Reader io.Reader
}

// Relay copies bytes both ways between client and upstream until both
// directions end, ctx is cancelled, or one direction ends and the other
// does not follow within HalfCloseGrace. It counts bytes in s and closes
// both connections before returning.
func Relay(ctx context.Context, s *Session, client, up Peer) error {
	done := make(chan error, 2)
	go func() { done <- pipe(up.Conn, client.Reader, &s.BytesIn) }()
	go func() { done <- pipe(client.Conn, up.Reader, &s.BytesOut) }()

	closeBoth := func() { client.Conn.Close(); up.Conn.Close() }
	var first error
	select {
	case first = <-done:
	case <-ctx.Done():
		closeBoth()
		<-done
		<-done
		return ctx.Err()
	}
	if first != nil {
		// A broken direction (reset, write error): nothing more can be
		// delivered reliably, so end both at once.
		closeBoth()
		<-done
		return first
	}
	// One side finished cleanly and pipe passed its end-of-stream on; give
	// the other direction a moment to finish too (the server's BYE after a
	// client's LOGOUT, say).
	timer := time.NewTimer(HalfCloseGrace)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		closeBoth()
		<-done
	case <-ctx.Done():
		closeBoth()
		<-done
	}
	closeBoth()
	return nil
}

// pipe copies src to dst through a pooled buffer, counting bytes as they
// go so that metrics see a long session's traffic before it ends. At a
// clean end of src it half-closes dst, so the peer sees end-of-stream in
// that direction only.
func pipe(dst net.Conn, src io.Reader, n *atomic.Int64) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		nr, rerr := src.Read(buf)
		if nr > 0 {
			nw, werr := dst.Write(buf[:nr])
			n.Add(int64(nw))
			if werr != nil {
				return werr
			}
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

// closeWrite half-closes conn where the connection type allows it (TCP,
// TLS), so the peer sees end-of-stream while the other direction drains.
func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

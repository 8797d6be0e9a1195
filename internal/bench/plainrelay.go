package bench

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"time"
)

// PlainRelayPerGiB measures the CPU time that moving a GiB through a
// process costs without any TLS: read 16 KiB from one loopback TCP
// connection, write it to another, as the proxy does after decryption.
// It is the system-call, copy and loopback TCP share of relaying, which
// TLSWorkPerGiB leaves out and no user-space relay can avoid. The relay
// loop runs on a locked OS thread, timed with that thread's CPU clock.
func PlainRelayPerGiB(d time.Duration) (time.Duration, error) {
	in, inPeer, err := tcpPair()
	if err != nil {
		return 0, err
	}
	defer in.Close()
	defer inPeer.Close()
	out, outPeer, err := tcpPair()
	if err != nil {
		return 0, err
	}
	defer out.Close()
	defer outPeer.Close()
	go feed(inPeer)
	go io.Copy(io.Discard, outPeer)

	type result struct {
		cpu   time.Duration
		bytes int64
		err   error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		buf := make([]byte, recordSize)
		var r result
		start, wall := threadCPU(), time.Now()
		for time.Since(wall) < d && r.err == nil {
			var n int
			if n, r.err = in.Read(buf); n > 0 {
				_, r.err = out.Write(buf[:n])
				r.bytes += int64(n)
			}
		}
		r.cpu = threadCPU() - start
		done <- r
	}()
	r := <-done
	if r.err != nil || r.bytes == 0 {
		return 0, fmt.Errorf("plain relay: %v (%d bytes)", r.err, r.bytes)
	}
	return time.Duration(float64(r.cpu) * float64(1<<30) / float64(r.bytes)), nil
}

// feed writes to c until it is closed.
func feed(c net.Conn) {
	buf := make([]byte, recordSize)
	for {
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair() (net.Conn, net.Conn, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() { c, err := ln.Accept(); ch <- accepted{c, err} }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	a := <-ch
	if a.err != nil {
		c.Close()
		return nil, nil, errors.Join(errors.New("accept"), a.err)
	}
	return a.c, c, nil
}

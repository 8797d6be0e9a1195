package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

// tcpPair returns the two ends of a loopback TCP connection, so that
// half-close behaves as it does in production.
func tcpPair(t *testing.T) (net.Conn, net.Conn) { return loopbackPair(t) }

func newSession() *Session { return &Session{Log: zap.NewNop(), Started: time.Now()} }

// The bytes a front end read ahead during login are relayed first, then
// the rest, in order, both ways, and counted.
func TestRelayDeliversReadAheadThenStream(t *testing.T) {
	client, proxyClientSide := tcpPair(t)
	proxyUpSide, server := tcpPair(t)
	clientBuf := bufio.NewReader(io.MultiReader(strings.NewReader("a3 SELECT INBOX\r\n"), proxyClientSide))
	upBuf := bufio.NewReader(io.MultiReader(strings.NewReader("* 3 EXISTS\r\n"), proxyUpSide))
	s := newSession()
	done := make(chan error, 1)
	go func() {
		done <- Relay(context.Background(), s, Peer{proxyClientSide, clientBuf}, Peer{proxyUpSide, upBuf})
	}()

	big := make([]byte, 3<<20)
	rand.Read(big)
	go func() { client.Write([]byte("a4 NOOP\r\n")); client.Write(big); client.(*net.TCPConn).CloseWrite() }()
	got, err := io.ReadAll(server)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte("a3 SELECT INBOX\r\na4 NOOP\r\n"), big...)
	if !bytes.Equal(got, want) {
		t.Fatalf("upstream got %d bytes, want %d (order or content differs)", len(got), len(want))
	}
	server.Write([]byte("* BYE\r\n"))
	server.Close()
	back, _ := io.ReadAll(client)
	if string(back) != "* 3 EXISTS\r\n* BYE\r\n" {
		t.Fatalf("client got %q", back)
	}
	if err := <-done; err != nil {
		t.Fatalf("relay: %v", err)
	}
	if s.BytesIn.Load() != int64(len(want)) || s.BytesOut.Load() != int64(len(back)) {
		t.Fatalf("counted in=%d out=%d, want %d/%d", s.BytesIn.Load(), s.BytesOut.Load(), len(want), len(back))
	}
}

// When the upstream hangs up, the client sees the end of the stream at
// once rather than a session that silently hangs.
func TestRelayUpstreamCloseEndsClient(t *testing.T) {
	client, pc := tcpPair(t)
	pu, server := tcpPair(t)
	done := make(chan error, 1)
	go func() { done <- Relay(context.Background(), newSession(), Peer{pc, pc}, Peer{pu, pu}) }()
	server.Close()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("client read: %v, want EOF", err)
	}
	client.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("relay did not end after both sides closed")
	}
}

// If one side finishes and the other never does, the grace period ends
// the relay instead of leaving it open forever.
func TestRelayHalfCloseGraceEnds(t *testing.T) {
	old := HalfCloseGrace
	HalfCloseGrace = 100 * time.Millisecond
	defer func() { HalfCloseGrace = old }()
	client, pc := tcpPair(t)
	pu, _ := tcpPair(t) // upstream never says anything and never closes
	done := make(chan error, 1)
	go func() { done <- Relay(context.Background(), newSession(), Peer{pc, pc}, Peer{pu, pu}) }()
	client.(*net.TCPConn).CloseWrite()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("relay stayed open past the half-close grace")
	}
}

// Cancelling the context (shutdown) closes both connections.
func TestRelayContextCancelClosesBoth(t *testing.T) {
	client, pc := tcpPair(t)
	pu, server := tcpPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Relay(ctx, newSession(), Peer{pc, pc}, Peer{pu, pu}) }()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("relay returned %v", err)
	}
	for _, c := range []net.Conn{client, server} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("peer read after shutdown: %v, want EOF", err)
		}
	}
}

// A byte that arrives alone is delivered at once, not held until more
// data comes: a server that sends "* OK\r" and only later "\n" (or a
// one-byte TLS record) must not stall a client waiting for the line.
func TestRelayDeliversALoneByte(t *testing.T) {
	client, pc := tcpPair(t)
	pu, server := tcpPair(t)
	go Relay(context.Background(), newSession(), Peer{pc, pc}, Peer{pu, pu})
	server.Write([]byte("* OK\r"))
	time.Sleep(50 * time.Millisecond)
	server.Write([]byte("\n"))
	client.SetReadDeadline(time.Now().Add(3 * time.Second))
	got := make([]byte, 0, 6)
	buf := make([]byte, 16)
	for len(got) < 6 {
		n, err := client.Read(buf)
		if err != nil {
			t.Fatalf("client got %q, then %v: a lone byte was held", got, err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "* OK\r\n" {
		t.Fatalf("client got %q", got)
	}
}

// A client that stops reading cannot pin the session: once a write to it
// has waited WriteTimeout, the relay ends and closes both sides.
func TestRelayEndsWhenClientStopsReading(t *testing.T) {
	old := WriteTimeout
	WriteTimeout = 300 * time.Millisecond
	defer func() { WriteTimeout = old }()
	_, pc := tcpPair(t) // the client never reads
	pu, server := tcpPair(t)
	done := make(chan error, 1)
	go func() { done <- Relay(context.Background(), newSession(), Peer{pc, pc}, Peer{pu, pu}) }()
	go func() {
		chunk := make([]byte, 64<<10)
		for {
			if _, err := server.Write(chunk); err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("relay still running with a client that stopped reading")
	}
}

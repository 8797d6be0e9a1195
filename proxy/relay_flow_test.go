package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
)

// Drain hands over what the login's reader still buffers, then the
// connection; with nothing buffered it is the connection itself.
func TestDrainBufferedThenConn(t *testing.T) {
	a, b := tcpPair(t)
	if got := Drain(bufio.NewReader(a), a); got != a {
		t.Fatalf("Drain of an empty reader = %T, want the connection", got)
	}
	b.Write([]byte("a1 LOGIN x y\r\na2 SELECT INBOX\r\n"))
	br := bufio.NewReader(a)
	if line, _ := br.ReadString('\n'); line != "a1 LOGIN x y\r\n" {
		t.Fatalf("first line %q", line)
	}
	r := Drain(br, a)
	b.Write([]byte("a3 IDLE\r\n"))
	b.Close()
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "a2 SELECT INBOX\r\na3 IDLE\r\n" {
		t.Fatalf("drained %q, %v", got, err)
	}
}

// tlsPair returns a TLS client and server over loopback TCP, handshaken.
func tlsPair(t testing.TB) (*tls.Conn, *tls.Conn) {
	t.Helper()
	cert, roots, err := imaptest.SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	c, s := loopbackPair(t)
	tc := tls.Client(c, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	ts := tls.Server(s, &tls.Config{Certificates: []tls.Certificate{cert}})
	errs := make(chan error, 1)
	go func() { errs <- ts.Handshake() }()
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	return tc, ts
}

// Bytes of every size arrive intact through TLS on both legs: single
// bytes, short lines, whole records and megabytes; and once the burst is
// over, the relay holds no pooled buffer while it waits.
func TestRelayTLSEverySizeThenIdle(t *testing.T) {
	client, proxyClient := tlsPair(t)
	proxyUp, server := tlsPair(t)
	s := newSession()
	done := make(chan error, 1)
	go func() {
		done <- Relay(context.Background(), s, Peer{proxyClient, proxyClient}, Peer{proxyUp, proxyUp})
	}()
	var want bytes.Buffer
	for _, n := range []int{1, 13, RelayBufferSize - 1, RelayBufferSize, RelayBufferSize + 1, 3*RelayBufferSize + 7, 2 << 20, 5} {
		chunk := make([]byte, n)
		rand.Read(chunk)
		want.Write(chunk)
	}
	go func() { server.Write(want.Bytes()) }()
	got := make([]byte, want.Len())
	client.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("relayed bytes differ from the upstream's")
	}
	waitFor(t, func() bool { return lent.Load() == 0 }, "the pooled buffer back while idle")

	client.Write([]byte("a9 LOGOUT\r\n"))
	line, _ := bufio.NewReader(server).ReadString('\n')
	if line != "a9 LOGOUT\r\n" {
		t.Fatalf("upstream got %q", line)
	}
	server.Close()
	client.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("relay did not end")
	}
	if in, out := s.BytesIn.Load(), s.BytesOut.Load(); in != int64(len(line)) || out != int64(want.Len()) {
		t.Fatalf("counted in=%d out=%d", in, out)
	}
}

// loopbackPair is tcpPair for benchmarks too.
func loopbackPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() { c, _ := ln.Accept(); accepted <- c }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !ok(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A broken leg ends both at once, without waiting for the grace period.
// (Which error Relay reports depends on which socket call sees the reset
// first: the kernel reports it once, and the other call sees end of file.)
func TestRelayResetEndsBothAtOnce(t *testing.T) {
	old := HalfCloseGrace
	HalfCloseGrace = time.Hour
	defer func() { HalfCloseGrace = old }()
	client, pc := tcpPair(t)
	pu, server := tcpPair(t)
	done := make(chan error, 1)
	go func() { done <- Relay(context.Background(), newSession(), Peer{pc, pc}, Peer{pu, pu}) }()
	server.(*net.TCPConn).SetLinger(0)
	server.Close() // RST
	client.Write([]byte(strings.Repeat("x", 100)))
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("relay waited after a reset")
	}
}

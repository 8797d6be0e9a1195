package proxy

import (
	"context"
	"io"
	"net"
	"testing"
)

// BenchmarkRelay streams from an upstream through Relay to a client, in
// 1 MiB writes, over loopback: plain TCP on both legs, and TLS on both
// legs as in production. MB/s is what one session can carry; compare
// with BenchmarkDirect, the same stream with no relay in between.
//
//	go test -run '^$' -bench 'Relay|Direct' ./proxy/
func BenchmarkRelay(b *testing.B) {
	b.Run("tcp", func(b *testing.B) {
		client, pc := loopbackPair(b)
		pu, server := loopbackPair(b)
		benchStream(b, client, server, pc, pu)
	})
	b.Run("tls", func(b *testing.B) {
		client, pc := tlsPair(b)
		pu, server := tlsPair(b)
		benchStream(b, client, server, pc, pu)
	})
}

// BenchmarkDirect is BenchmarkRelay's stream without the relay.
func BenchmarkDirect(b *testing.B) {
	b.Run("tcp", func(b *testing.B) {
		client, server := loopbackPair(b)
		benchStream(b, client, server, nil, nil)
	})
	b.Run("tls", func(b *testing.B) {
		client, server := tlsPair(b)
		benchStream(b, client, server, nil, nil)
	})
}

const benchChunk = 1 << 20

// benchStream relays pc<->pu (unless nil) and measures server-to-client
// throughput.
func benchStream(b *testing.B, client, server, pc, pu net.Conn) {
	if pc != nil {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { Relay(ctx, newSession(), Peer{pc, pc}, Peer{pu, pu}); close(done) }()
		b.Cleanup(func() { cancel(); <-done })
	}
	chunk := make([]byte, benchChunk)
	go func() {
		for {
			if _, err := server.Write(chunk); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, benchChunk)
	b.SetBytes(benchChunk)
	for b.Loop() {
		if _, err := io.ReadFull(client, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	server.Close()
	client.Close()
}

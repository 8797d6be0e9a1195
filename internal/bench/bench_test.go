package bench

import (
	"context"
	"crypto/tls"
	"testing"
	"time"
)

// Run with, for example:
//
//	go test -run '^$' -bench . -benchtime 200x ./internal/bench/
//
// The key derivation alone is tokenstore's BenchmarkDeriveKey/default.

func open(b *testing.B, leg Leg) *Client {
	c, err := leg.Open(context.Background())
	if err != nil {
		b.Fatalf("%s: %v", leg.Name, err)
	}
	return c
}

// BenchmarkLogin is connect-to-OK over TLS: directly with XOAUTH2, and
// through oauthbridge with LOGIN (token and password verifier warm).
func BenchmarkLogin(b *testing.B) {
	w := NewWorld(b, 1)
	a := w.Accounts[0]
	s := NewStack(b, w, w.Accounts)
	for _, leg := range []Leg{direct(w, a, 0), s.Leg(a)} {
		b.Run(leg.Name, func(b *testing.B) {
			open(b, leg).Close()
			for b.Loop() {
				open(b, leg).Close()
			}
		})
	}
}

// BenchmarkLoginCold is a login whose password has to go through the
// key derivation (the verifier cache forgot it).
func BenchmarkLoginCold(b *testing.B) {
	w := NewWorld(b, 1)
	a := w.Accounts[0]
	s := NewStack(b, w, w.Accounts)
	leg := s.Leg(a)
	open(b, leg).Close()
	for b.Loop() {
		s.Login.Forget(a.Email)
		open(b, leg).Close()
	}
}

// BenchmarkRefreshStorm is 200 concurrent logins right after the
// upstream started refusing the access token the proxy holds; every
// iteration must cost the IdP exactly one refresh. Failed logins are a
// metric, not a failure: a known race in the broker can lose one (see
// BENCHMARKS.md).
func BenchmarkRefreshStorm(b *testing.B) {
	w := NewWorld(b, 1)
	a := w.Accounts[0]
	s := NewStack(b, w, w.Accounts)
	leg := s.Leg(a)
	open(b, leg).Close()
	var last StormResult
	failed := 0
	for b.Loop() {
		w.IdP.Expire(a.Email)
		last = Storm(context.Background(), w.IdP, leg, 200)
		if last.Refreshes != 1 {
			b.Fatalf("%d refreshes for one expiry, want 1", last.Refreshes)
		}
		failed += last.Failures
	}
	b.ReportMetric(float64(last.AfterRefresh)/float64(time.Millisecond), "ms-after-refresh")
	b.ReportMetric(float64(failed)/float64(b.N), "failed-logins/op")
}

// BenchmarkTLSWork is the cryptography a relay cannot avoid per full TLS
// record: one decrypt and one encrypt.
func BenchmarkTLSWork(b *testing.B) {
	for _, suite := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256} {
		aead, err := NewSuiteAEAD(suite)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tls.CipherSuiteName(suite), TLSWorkBench(aead))
	}
}

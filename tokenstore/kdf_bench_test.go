package tokenstore_test

import (
	"fmt"
	"testing"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// BenchmarkDeriveKey measures one Argon2id derivation: the production
// parameters first (the figure SECURITY.md quotes: what one password
// guess costs), then a few neighbours to show what raising memory or
// passes would cost on the machine at hand.
//
//	go test -run '^$' -bench DeriveKey -benchtime 10x ./tokenstore/
func BenchmarkDeriveKey(b *testing.B) {
	cases := []struct {
		name string
		p    tokenstore.KDFParams
	}{{"default", tokenstore.DefaultKDF()}}
	for _, mem := range []uint32{64, 128} {
		for _, passes := range []uint32{1, 2, 3} {
			for _, threads := range []uint8{1, 2} {
				p := tokenstore.DefaultKDF()
				p.MemoryKiB, p.Time, p.Threads = mem*1024, passes, threads
				cases = append(cases, struct {
					name string
					p    tokenstore.KDFParams
				}{fmt.Sprintf("m=%dMiB,t=%d,p=%d", mem, passes, threads), p})
			}
		}
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				tokenstore.DeriveKey([]byte("correct horse battery staple"), c.p)
			}
		})
	}
}

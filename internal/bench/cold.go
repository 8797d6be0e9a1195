package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// ColdResult is the cost of a first login, whose password has to go
// through the key derivation, beside a repeated one that the verifier
// cache answers.
type ColdResult struct {
	Params tokenstore.KDFParams
	// KDF is the wall time of one derivation in this process.
	KDF time.Duration
	// Cold and Warm are login times through the proxy: each account's
	// first login and its second.
	Cold, Warm Latencies
}

// KDFTime derives a key n times with the production parameters and
// returns the median wall time.
func KDFTime(n int) (tokenstore.KDFParams, time.Duration) {
	p := tokenstore.DefaultKDF()
	var ts Latencies
	for range n {
		start := time.Now()
		tokenstore.DeriveKey([]byte("correct horse battery staple"), p)
		ts = append(ts, time.Since(start))
	}
	slices.Sort(ts)
	return p, ts.Quantile(0.5)
}

// Cold logs in once to each account through open (its first login since
// the proxy started), then once more.
func Cold(ctx context.Context, accounts []Account, open func(context.Context, Account) (*Client, error)) (ColdResult, error) {
	var res ColdResult
	res.Params, res.KDF = KDFTime(5)
	for _, a := range accounts {
		for _, into := range []*Latencies{&res.Cold, &res.Warm} {
			start := time.Now()
			c, err := open(ctx, a)
			if err != nil {
				return res, fmt.Errorf("login as %s: %w", a.Email, err)
			}
			*into = append(*into, time.Since(start))
			c.Close()
		}
	}
	slices.Sort(res.Cold)
	slices.Sort(res.Warm)
	return res, nil
}

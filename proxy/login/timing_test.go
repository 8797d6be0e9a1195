package login_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// An unknown user and a wrong password must take the same time with the
// production KDF: the unknown user pays for a decoy derivation with the
// same parameters. This is a side-channel check, not a speed assertion:
// it compares two medians measured side by side, interleaved, so that the
// machine's load affects both alike; the bound is loose (0.7-1.4), while
// skipping the decoy would make the ratio about 0.
func TestUnknownUserAndWrongPasswordTakeTheSameTime(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the production KDF")
	}
	n := 9
	if raceEnabled {
		n = 7
	}
	e := newEnvWith(t, func(c *login.ServiceConfig) {
		c.KDF = nil                        // production parameters for the decoy
		c.Throttle.Free = 1 << 20          // measure the check, not the throttle
		c.Rules = c.Rules[len(c.Rules)-1:] // *@example.test
		c.Rules = append(c.Rules, login.Rule{Match: "*@known.test", Provider: "lab"})
	})
	e.br.KDF = tokenstore.DefaultKDF
	e.authorize(t, "alice@example.test", "s3cret")
	ctx := context.Background()
	measure := func(user, pass string) time.Duration {
		start := time.Now()
		_, err := e.svc.Authenticate(ctx, req(user, pass))
		d := time.Since(start)
		if !errors.Is(err, login.ErrBadCredentials) {
			t.Fatalf("%s: %v", user, err)
		}
		return d
	}
	var wrong, unknown []time.Duration
	for i := range n {
		w := func() { wrong = append(wrong, measure("alice@example.test", fmt.Sprintf("wrong-%d", i))) }
		u := func() {
			unknown = append(unknown, measure(fmt.Sprintf("nobody%d@elsewhere.test", i), fmt.Sprintf("wrong-%d", i)))
		}
		if i%2 == 0 { // alternate, so that neither always runs first
			w()
			u()
		} else {
			u()
			w()
		}
	}
	mw, mu := median(wrong), median(unknown)
	ratio := float64(mu) / float64(mw)
	t.Logf("median of %d: wrong password %s, unknown user %s, ratio %.2f", n, mw.Round(time.Millisecond), mu.Round(time.Millisecond), ratio)
	if ratio < 0.7 || ratio > 1.4 {
		t.Fatalf("unknown user and wrong password are told apart by timing: %s vs %s", mu, mw)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

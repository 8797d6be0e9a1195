package login_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/login"
)

// attackLab is an environment whose throttle runs on a fake clock, so an
// attacker can "wait out" days of lockouts in milliseconds.
type attackLab struct {
	*env
	now     time.Time
	lastFor time.Duration // what was left of the lock at the last refusal
}

func newAttackLab(t *testing.T) *attackLab {
	lab := &attackLab{now: time.Unix(1e9, 0)}
	lab.env = newEnvWith(t, func(c *login.ServiceConfig) {
		c.OnThrottle = func(e login.ThrottleEvent) {
			if e.Action == login.ActionRefused {
				lab.lastFor = e.For
			}
		}
	})
	login.SetClock(lab.svc, func() time.Time { return lab.now })
	return lab
}

func from(ip string, user, pass string) login.Request {
	r := req(user, pass)
	r.Remote = &net.TCPAddr{IP: net.ParseIP(ip), Port: 50000}
	return r
}

// attack sends n distinct wrong passwords for alice, each from source(i).
// A patient attacker waits out every lock (on the fake clock) and tries
// the same guess again; an impatient one moves on. It returns how many
// guesses were evaluated (the password check, and so the KDF, ran) and
// how long the attacker had to wait.
func (lab *attackLab) attack(t *testing.T, n int, source func(i int) string, patient bool) (evaluated, refused int, waited time.Duration) {
	t.Helper()
	for i := 0; i < n; {
		_, err := lab.svc.Authenticate(context.Background(), from(source(i), "alice@example.test", fmt.Sprintf("guess-%04d", i)))
		switch {
		case errors.Is(err, login.ErrBadCredentials):
			evaluated++
			i++
		case errors.Is(err, login.ErrThrottled) && patient:
			refused++
			lab.now = lab.now.Add(lab.lastFor)
			waited += lab.lastFor
		case errors.Is(err, login.ErrThrottled):
			refused++
			i++
		default:
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	return evaluated, refused, waited
}

// 1,000 wrong passwords from one address against one account: how many
// are evaluated, and how long the attacker needs; the owner, from her
// usual address, gets in throughout.
func TestThousandGuessesFromOneAddress(t *testing.T) {
	const usual, attacker = "192.0.2.10", "203.0.113.66"
	lab := newAttackLab(t)
	lab.authorize(t, "alice@example.test", "s3cret")
	owner := from(usual, "alice@example.test", "s3cret")
	if _, err := lab.svc.Authenticate(context.Background(), owner); err != nil {
		t.Fatal(err)
	}
	one := func(int) string { return attacker }

	evaluated, refused, _ := lab.attack(t, 1000, one, false)
	t.Logf("burst of 1,000 guesses from one address: %d evaluated (KDF run), %d refused unevaluated", evaluated, refused)
	if evaluated > 10 {
		t.Fatalf("a burst got %d guesses evaluated", evaluated)
	}
	if _, err := lab.svc.Authenticate(context.Background(), owner); err != nil {
		t.Fatalf("owner locked out from the usual address during the attack: %v", err)
	}

	lab.now = lab.now.Add(2 * time.Hour) // failures forgotten: start afresh
	evaluated, refused, waited := lab.attack(t, 1000, one, true)
	t.Logf("patient attacker, one address: 1,000 guesses evaluated after %d refusals and %s (%.1f days) of lockouts",
		refused, waited.Round(time.Second), waited.Hours()/24)
	if evaluated != 1000 || waited < 7*24*time.Hour {
		t.Fatalf("1,000 guesses cost only %s of waiting", waited)
	}
	if _, err := lab.svc.Authenticate(context.Background(), owner); err != nil {
		t.Fatalf("owner locked out from the usual address after the attack: %v", err)
	}
	_, err := lab.svc.Authenticate(context.Background(), from("198.51.100.3", "alice@example.test", "s3cret"))
	t.Logf("owner from a new address right after the attack: %v (the account lock lasts at most 5 min)", err)
	lab.now = lab.now.Add(5 * time.Minute)
	if _, err := lab.svc.Authenticate(context.Background(), from("198.51.100.3", "alice@example.test", "s3cret")); err != nil {
		t.Fatalf("owner from a new address still refused 5 min after the attack: %v", err)
	}
}

// An attacker with an address per guess escapes the per-source limit but
// not the per-account one.
func TestThousandGuessesFromManyAddresses(t *testing.T) {
	lab := newAttackLab(t)
	lab.authorize(t, "alice@example.test", "s3cret")
	many := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	evaluated, refused, waited := lab.attack(t, 1000, many, true)
	t.Logf("patient attacker, a new address per guess: 1,000 evaluated after %d refusals and %s (%.1f days) of lockouts",
		refused, waited.Round(time.Second), waited.Hours()/24)
	if evaluated != 1000 || waited < 2*24*time.Hour {
		t.Fatalf("%d guesses from many addresses cost only %s", evaluated, waited)
	}
}

package login

import (
	"crypto/sha256"
	"net"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func guess(s string) [sha256.Size]byte   { return sha256.Sum256([]byte(s)) }
func newTestThrottle(c *fakeClock) *throttle {
	t := newThrottle(ThrottleConfig{}, nil)
	t.now = c.now
	return t
}

func TestThrottleDelaysAfterFreeFailuresAndDoubles(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	th := newTestThrottle(clk)
	for i := range 5 {
		th.fail("alice@x", "10.0.0.1", guess(string(rune('a'+i))))
		if _, _, b := th.blocked("alice@x", "10.0.0.1"); b {
			t.Fatalf("blocked after %d failures, want 5 free", i+1)
		}
	}
	var waits []time.Duration
	for i := range 3 {
		th.fail("alice@x", "10.0.0.1", guess(string(rune('p'+i))))
		d, _, b := th.blocked("alice@x", "10.0.0.1")
		if !b {
			t.Fatalf("not blocked after %d failures", 6+i)
		}
		waits = append(waits, d)
	}
	if waits[0] != time.Second || waits[1] != 2*time.Second || waits[2] != 4*time.Second {
		t.Fatalf("lockouts = %v, want 1s 2s 4s", waits)
	}
	clk.add(5 * time.Second)
	if _, _, b := th.blocked("alice@x", "10.0.0.1"); b {
		t.Fatal("still blocked after the lockout passed")
	}
}

func TestThrottleSameWrongPasswordCountsOnce(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	th := newTestThrottle(clk)
	// Thunderbird: PLAIN, LOGIN, then the LOGIN command, same typo, many reconnects.
	for range 30 {
		th.fail("alice@x", "10.0.0.1", guess("typo"))
	}
	if _, _, b := th.blocked("alice@x", "10.0.0.1"); b {
		t.Fatal("one repeated typo locked the user out")
	}
}

func TestThrottleAccountLockSparesUsualSource(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	th := newTestThrottle(clk)
	th.succeed("alice@x", "192.0.2.7") // alice's usual address
	for i := range 50 {
		th.fail("alice@x", "10.9.9."+string(rune('0'+i%10)), guess(string(rune(i))))
	}
	if _, _, b := th.blocked("alice@x", "198.51.100.1"); !b {
		t.Fatal("a new source was not stopped by the account lockout")
	}
	if _, _, b := th.blocked("alice@x", "192.0.2.7"); b {
		t.Fatal("alice's usual address was locked out by someone else's guesses")
	}
}

func TestThrottleSuccessClearsSource(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	th := newTestThrottle(clk)
	for i := range 5 {
		th.fail("bob@x", "10.0.0.2", guess(string(rune(i))))
	}
	th.succeed("bob@x", "10.0.0.2")
	th.fail("bob@x", "10.0.0.2", guess("z"))
	if _, _, b := th.blocked("carol@x", "10.0.0.2"); b {
		t.Fatal("source still counted failures from before a success")
	}
}

func TestThrottleTablesStayBounded(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	th := newThrottle(ThrottleConfig{MaxEntries: 1000}, nil)
	th.now = clk.now
	for i := range 20_000 {
		ip := net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)).String()
		th.fail("user"+ip, ip, guess(ip))
		th.succeed("user"+ip, ip+"x")
	}
	if len(th.sources) > 1000 || len(th.accounts) > 1000 || len(th.known) > 1000 {
		t.Fatalf("tables grew past their bound: %d sources, %d accounts, %d known",
			len(th.sources), len(th.accounts), len(th.known))
	}
}

func TestSourceKeyGroupsIPv6By64(t *testing.T) {
	a := &net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:aaaa::1"), Port: 1}
	b := &net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:bbbb::9"), Port: 2}
	c := &net.TCPAddr{IP: net.ParseIP("2001:db8:1:3::1"), Port: 3}
	if sourceKey(a) != sourceKey(b) || sourceKey(a) == sourceKey(c) {
		t.Fatalf("keys: %s %s %s", sourceKey(a), sourceKey(b), sourceKey(c))
	}
	if got := sourceKey(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}); got != "127.0.0.1" {
		t.Fatalf("v4 key %q", got)
	}
}

func TestThrottleSprayCountsPerAccountAtTheSource(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	th := newTestThrottle(clk)
	// One common password tried against many accounts from one address:
	// each try is a new guess, not a repeated typo.
	for i := range 6 {
		th.fail("user"+string(rune('a'+i))+"@x", "10.0.0.3", guess("Summer2026!"))
	}
	if _, kind, b := th.blocked("other@x", "10.0.0.3"); !b || kind != KindSource {
		t.Fatalf("password spraying from one source was not locked (blocked=%v kind=%q)", b, kind)
	}
}

func TestThrottleOwnSuccessDoesNotResetGuessesAtOthers(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	th := newTestThrottle(clk)
	for round := range 3 {
		for i := range 4 {
			th.fail("victim@x", "10.0.0.4", guess(string(rune('a'+round*4+i))))
		}
		th.succeed("mallory@x", "10.0.0.4") // the attacker's own account
	}
	if _, _, b := th.blocked("victim@x", "10.0.0.4"); !b {
		t.Fatal("logging in to one's own account reset the count of guesses at another")
	}
}

func TestThrottleForgetsUsualSourceAfterKnownFor(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	th := newTestThrottle(clk)
	th.succeed("alice@x", "192.0.2.7")
	clk.add(31 * 24 * time.Hour)
	for i := range 6 {
		th.fail("alice@x", "10.9.9.9", guess(string(rune('a'+i))))
	}
	if _, _, b := th.blocked("alice@x", "192.0.2.7"); !b {
		t.Fatal("an address last used 31 days ago is still spared")
	}
}

func TestThrottleReportsLocksAndRefusals(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	var got []ThrottleEvent
	th := newThrottle(ThrottleConfig{}, func(e ThrottleEvent) { got = append(got, e) })
	th.now = clk.now
	for i := range 6 {
		th.fail("alice@x", "10.0.0.5", guess(string(rune('a'+i))))
	}
	th.blocked("alice@x", "10.0.0.5")
	want := []ThrottleEvent{
		{Kind: KindSource, Action: ActionLocked, Key: "10.0.0.5", Failures: 6, For: time.Second},
		{Kind: KindAccount, Action: ActionLocked, Key: "alice@x", Failures: 6, For: time.Second},
		{Kind: KindSource, Action: ActionRefused, Key: "10.0.0.5", For: time.Second},
	}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	st := th.stats()
	if st.LockedSources != 1 || st.LockedAccounts != 1 || st.Sources != 1 || st.Accounts != 1 {
		t.Errorf("stats %+v", st)
	}
}

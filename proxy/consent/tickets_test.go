package consent

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// TestSameLinkForRetries: a mail client that retries with the same
// password gets the same link; another password gets a new one.
func TestSameLinkForRetries(t *testing.T) {
	w := newWorld(t)
	a, b := w.consentLink(alice, alicePw), w.consentLink(alice, alicePw)
	if a != b {
		t.Fatal("a retry with the same password got a new link")
	}
	if c := w.consentLink(alice, "other-password-1"); c == a {
		t.Fatal("another password got the same link")
	}
	if w.tickets.Len() != 2 {
		t.Fatalf("%d tickets, want 2", w.tickets.Len())
	}
}

func ticket(id, account string, created time.Time, stage Stage) *Ticket {
	return &Ticket{ID: id, Account: account, Created: created, Expires: created.Add(time.Hour), Stage: stage}
}

// TestTicketBounds: per account the oldest idle ticket makes room; in
// total the oldest idle one anywhere; busy tickets are never evicted.
func TestTicketBounds(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryTickets(TicketLimits{PerAccount: 2, Total: 3})
	now := time.Now()
	add := func(id, account string, age time.Duration, stage Stage) error {
		return m.Add(ctx, ticket(id, account, now.Add(-age), stage))
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(add("a1", "a", 5*time.Minute, StageChoose))
	must(add("a2", "a", 4*time.Minute, StageDevice))
	must(add("a3", "a", 3*time.Minute, StageChoose)) // evicts a1, the idle one
	if _, err := m.Get(ctx, "a1"); !errors.Is(err, ErrTicketNotFound) {
		t.Fatal("the account's oldest idle ticket was kept")
	}
	must(add("b1", "b", 2*time.Minute, StageChoose))
	must(add("c1", "c", time.Minute, StageChoose)) // full: evicts a3, oldest idle overall
	for id, want := range map[string]bool{"a2": true, "a3": false, "b1": true, "c1": true} {
		if _, err := m.Get(ctx, id); (err == nil) != want {
			t.Fatalf("ticket %s present = %v, want %v", id, err == nil, want)
		}
	}
	// All busy: no room.
	n := NewMemoryTickets(TicketLimits{PerAccount: 1, Total: 5})
	must(n.Add(ctx, ticket("x1", "x", now, StageDevice)))
	if err := n.Add(ctx, ticket("x2", "x", now, StageChoose)); !errors.Is(err, ErrTooManyTickets) {
		t.Fatalf("err = %v, want ErrTooManyTickets", err)
	}
}

// TestTicketCopies: the store hands out copies, so a caller's change is
// not a write.
func TestTicketCopies(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryTickets(TicketLimits{})
	tk := ticket("t", "a", time.Now(), StageChoose)
	tk.Key = []byte("0123456789abcdef0123456789abcdef")
	if err := m.Add(ctx, tk); err != nil {
		t.Fatal(err)
	}
	tk.Key[0] = 'X'
	got, _ := m.Get(ctx, "t")
	got.Stage = StageDone
	again, _ := m.Get(ctx, "t")
	if again.Key[0] != '0' || again.Stage != StageChoose {
		t.Fatal("the store shares memory with its callers")
	}
	if err := m.Update(ctx, "t", func(*Ticket) error { return errStale }); !errors.Is(err, errStale) {
		t.Fatal("Update hid fn's error")
	}
}

// TestNewRefuses: a configuration that cannot work is refused at start.
func TestNewRefuses(t *testing.T) {
	good := &Provider{Resolve: StaticEndpoints(nil, "")}
	for name, cfg := range map[string]Config{
		"no public URL":   {Broker: fakeBroker{}, Providers: map[string]*Provider{"p": good}},
		"relative URL":    {PublicURL: "/x", Broker: fakeBroker{}, Providers: map[string]*Provider{"p": good}},
		"no broker":       {PublicURL: "http://127.0.0.1:1", Providers: map[string]*Provider{"p": good}},
		"no providers":    {PublicURL: "http://127.0.0.1:1", Broker: fakeBroker{}},
		"no resolve func": {PublicURL: "http://127.0.0.1:1", Broker: fakeBroker{}, Providers: map[string]*Provider{"p": {}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

type fakeBroker struct{}

func (fakeBroker) SaveSealed(context.Context, string, string, string, tokenstore.KDFParams, []byte, *oauth2.Token) error {
	return nil
}

// TestSharedFormKey: two Services with one FormKey and one ticket store
// (a reload) accept each other's forms; with different keys they do not.
func TestSharedFormKey(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	mk := func(k []byte) *Service {
		s, err := New(Config{PublicURL: "http://127.0.0.1:1", Broker: fakeBroker{},
			Providers: map[string]*Provider{"p": {Resolve: StaticEndpoints(&oauth2.Config{}, "")}}, FormKey: k})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b, c := mk(key), mk(key), mk(nil)
	if a.csrfToken("ticket", "x") != b.csrfToken("ticket", "x") || a.csrfToken("ticket", "x") == c.csrfToken("ticket", "x") {
		t.Fatal("FormKey does not decide the CSRF tokens")
	}
	if _, err := New(Config{PublicURL: "http://127.0.0.1:1", Broker: fakeBroker{},
		Providers: map[string]*Provider{"p": {Resolve: StaticEndpoints(&oauth2.Config{}, "")}}, FormKey: []byte("short")}); err == nil {
		t.Fatal("a short FormKey was accepted")
	}
}

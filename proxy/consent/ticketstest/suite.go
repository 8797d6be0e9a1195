// Package ticketstest is the conformance suite for consent.TicketStore
// implementations: the in-memory store and the PostgreSQL one pass the
// same tests, so the consent site behaves the same on one process and on
// many replicas.
package ticketstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/consent"
	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// Opener returns an empty store with the given bounds for one test.
type Opener func(t *testing.T, l consent.TicketLimits) consent.TicketStore

// Run runs every conformance test against stores from open.
func Run(t *testing.T, open Opener) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"RoundTrip", testRoundTrip},
		{"Missing", testMissing},
		{"Copies", testCopies},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"Expired", testExpired},
		{"Newest", testNewest},
		{"Bounds", testBounds},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"SingleClaim", testSingleClaim},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open) })
	}
}

var errStop = errors.New("ticketstest: stop")

// newTicket is a live ticket carrying every kind of field.
func newTicket(id, account string, created time.Time, stage consent.Stage) *consent.Ticket {
	created = created.Round(0) // no monotonic reading: it does not survive a database
	return &consent.Ticket{ID: id, Account: account, Provider: "lab", UpstreamUser: account,
		KDF: tokenstore.KDFParams{Salt: []byte("0123456789abcdef"), Time: 1, MemoryKiB: 64, Threads: 1},
		Key: bytes.Repeat([]byte{7}, 32), Created: created, Expires: created.Add(time.Hour), Stage: stage,
		State: "state-" + id, Verifier: "verifier-" + id, Nonce: "nonce-" + id, RedirectURL: "http://127.0.0.1"}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantMissing(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, consent.ErrTicketNotFound) {
		t.Fatalf("%s: err = %v, want ErrTicketNotFound", what, err)
	}
}

func testRoundTrip(t *testing.T, open Opener) {
	s, ctx := open(t, consent.TicketLimits{}), ctxFor(t)
	in := newTicket("id-round-trip", "a@example.com", time.Now(), consent.StagePaste)
	in.Notice, in.Attempt, in.Identity, in.Reveal = "notice", 3, "a@example.com", "generated"
	must(t, s.Add(ctx, in))
	got, err := s.Get(ctx, in.ID)
	must(t, err)
	if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", *in) || !got.Created.Equal(in.Created) || !got.Expires.Equal(in.Expires) {
		t.Fatalf("got  %+v\nwant %+v", *got, *in)
	}
}

func testMissing(t *testing.T, open Opener) {
	s, ctx := open(t, consent.TicketLimits{}), ctxFor(t)
	_, err := s.Get(ctx, "no-such-ticket")
	wantMissing(t, err, "Get")
	wantMissing(t, s.Update(ctx, "no-such-ticket", func(*consent.Ticket) error { return nil }), "Update")
	_, err = s.Newest(ctx, "nobody@example.com")
	wantMissing(t, err, "Newest")
	must(t, s.Delete(ctx, "no-such-ticket"))
}

// testCopies: the store shares no memory with its callers.
func testCopies(t *testing.T, open Opener) {
	s, ctx := open(t, consent.TicketLimits{}), ctxFor(t)
	in := newTicket("id-copies", "a@example.com", time.Now(), consent.StageChoose)
	must(t, s.Add(ctx, in))
	in.Key[0], in.KDF.Salt[0], in.Stage = 'X', 'X', consent.StageDone
	got, err := s.Get(ctx, in.ID)
	must(t, err)
	got.Key[0], got.Stage = 'Y', consent.StageDone
	again, err := s.Get(ctx, in.ID)
	must(t, err)
	if again.Key[0] != 7 || again.KDF.Salt[0] != '0' || again.Stage != consent.StageChoose {
		t.Fatal("the store shares memory with its callers")
	}
}

func testUpdate(t *testing.T, open Opener) {
	s, ctx := open(t, consent.TicketLimits{}), ctxFor(t)
	in := newTicket("id-update", "a@example.com", time.Now(), consent.StageChoose)
	must(t, s.Add(ctx, in))
	later := in.Expires.Add(time.Hour)
	must(t, s.Update(ctx, in.ID, func(c *consent.Ticket) error {
		c.Stage, c.Attempt, c.Key, c.Expires = consent.StageDone, 2, nil, later
		return nil
	}))
	if err := s.Update(ctx, in.ID, func(c *consent.Ticket) error { c.Stage = consent.StageChoose; return errStop }); !errors.Is(err, errStop) {
		t.Fatalf("Update returned %v, want the callback's error", err)
	}
	got, err := s.Get(ctx, in.ID)
	must(t, err)
	if got.Stage != consent.StageDone || got.Attempt != 2 || got.Key != nil || !got.Expires.Equal(later) {
		t.Fatalf("after updates: stage %s attempt %d key %v expires %v", got.Stage, got.Attempt, got.Key, got.Expires)
	}
}

func testDelete(t *testing.T, open Opener) {
	s, ctx := open(t, consent.TicketLimits{}), ctxFor(t)
	in := newTicket("id-delete", "a@example.com", time.Now(), consent.StageChoose)
	must(t, s.Add(ctx, in))
	must(t, s.Delete(ctx, in.ID))
	_, err := s.Get(ctx, in.ID)
	wantMissing(t, err, "Get after Delete")
	must(t, s.Delete(ctx, in.ID))
}

// testExpired: an expired ticket is gone for every method.
func testExpired(t *testing.T, open Opener) {
	s, ctx := open(t, consent.TicketLimits{}), ctxFor(t)
	old := newTicket("id-expired", "a@example.com", time.Now().Add(-2*time.Hour), consent.StageChoose)
	must(t, s.Add(ctx, old))
	_, err := s.Get(ctx, old.ID)
	wantMissing(t, err, "Get")
	wantMissing(t, s.Update(ctx, old.ID, func(*consent.Ticket) error { return nil }), "Update")
	_, err = s.Newest(ctx, old.Account)
	wantMissing(t, err, "Newest")
}

func testNewest(t *testing.T, open Opener) {
	s, ctx := open(t, consent.TicketLimits{}), ctxFor(t)
	now := time.Now()
	must(t, s.Add(ctx, newTicket("id-older", "a@example.com", now.Add(-time.Minute), consent.StageChoose)))
	must(t, s.Add(ctx, newTicket("id-newer", "a@example.com", now, consent.StageChoose)))
	must(t, s.Add(ctx, newTicket("id-other", "b@example.com", now.Add(time.Second), consent.StageChoose)))
	got, err := s.Newest(ctx, "a@example.com")
	must(t, err)
	if got.ID != "id-newer" {
		t.Fatalf("Newest = %s, want id-newer", got.ID)
	}
}

// testBounds: per account the oldest idle ticket makes room; in total the
// oldest idle one anywhere; busy tickets are never evicted.
func testBounds(t *testing.T, open Opener) {
	s, ctx := open(t, consent.TicketLimits{PerAccount: 2, Total: 3}), ctxFor(t)
	now := time.Now()
	add := func(id, account string, age time.Duration, stage consent.Stage) error {
		return s.Add(ctx, newTicket(id, account, now.Add(-age), stage))
	}
	must(t, add("a1", "a", 5*time.Minute, consent.StageChoose))
	must(t, add("a2", "a", 4*time.Minute, consent.StageDevice))
	must(t, add("a3", "a", 3*time.Minute, consent.StageChoose)) // evicts a1, the idle one
	must(t, add("b1", "b", 2*time.Minute, consent.StageChoose))
	must(t, add("c1", "c", time.Minute, consent.StageChoose)) // full: evicts a3, oldest idle overall
	for id, want := range map[string]bool{"a1": false, "a2": true, "a3": false, "b1": true, "c1": true} {
		if _, err := s.Get(ctx, id); (err == nil) != want {
			t.Fatalf("ticket %s present = %v, want %v", id, err == nil, want)
		}
	}
	busy := open(t, consent.TicketLimits{PerAccount: 1, Total: 5})
	must(t, busy.Add(ctx, newTicket("x1", "x", now, consent.StageDevice)))
	if err := busy.Add(ctx, newTicket("x2", "x", now, consent.StageChoose)); !errors.Is(err, consent.ErrTooManyTickets) {
		t.Fatalf("Add with only busy tickets: %v, want ErrTooManyTickets", err)
	}
}

// testConcurrentUpdates: Update is atomic; no increment is lost.
func testConcurrentUpdates(t *testing.T, open Opener) {
	s, ctx := open(t, consent.TicketLimits{}), ctxFor(t)
	in := newTicket("id-counter", "a@example.com", time.Now(), consent.StageChoose)
	must(t, s.Add(ctx, in))
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(ctx, in.ID, func(c *consent.Ticket) error { c.Attempt++; return nil })
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	got, err := s.Get(ctx, in.ID)
	must(t, err)
	if got.Attempt != n {
		t.Fatalf("Attempt = %d after %d concurrent increments", got.Attempt, n)
	}
}

// testSingleClaim: of many callers that move a ticket out of a stage only
// if it is still in it (as consent's claim does), exactly one wins.
func testSingleClaim(t *testing.T, open Opener) {
	s, ctx := open(t, consent.TicketLimits{}), ctxFor(t)
	in := newTicket("id-claim", "a@example.com", time.Now(), consent.StageCode)
	must(t, s.Add(ctx, in))
	const n = 10
	var wg sync.WaitGroup
	wins := make(chan struct{}, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(ctx, in.ID, func(c *consent.Ticket) error {
				if c.Stage != consent.StageCode {
					return errStop
				}
				c.Stage = consent.StageSaving
				return nil
			})
			if err == nil {
				wins <- struct{}{}
			} else if !errors.Is(err, errStop) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(wins) != 1 {
		t.Fatalf("%d callers claimed the ticket, want exactly 1", len(wins))
	}
}

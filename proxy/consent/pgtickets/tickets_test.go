package pgtickets_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/oauthbridge/oauthbridge/tokenstore/postgres/pgtest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oauthbridge/oauthbridge/proxy/consent"
	"github.com/oauthbridge/oauthbridge/proxy/consent/pgtickets"
	"github.com/oauthbridge/oauthbridge/proxy/consent/ticketstest"
	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// TestConformance: the shared store passes the suite the in-memory one
// passes.
func TestConformance(t *testing.T) {
	ticketstest.Run(t, func(t *testing.T, l consent.TicketLimits) consent.TicketStore {
		return openTickets(t, pgtest.Schema(t), pgtickets.Options{Limits: l})
	})
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func secretTicket(id string) *consent.Ticket {
	now := time.Now().Round(0)
	return &consent.Ticket{ID: id, Account: "alice@example.com", Provider: "lab", UpstreamUser: "alice@example.com",
		KDF: tokenstore.KDFParams{Salt: []byte("salt-salt-salt-1"), Time: 1, MemoryKiB: 64, Threads: 1},
		Key: []byte("KEY-derived-from-the-password-32"), Created: now, Expires: now.Add(15 * time.Minute),
		Stage: consent.StagePaste, State: "STATE-secret-value", Verifier: "VERIFIER-secret-value",
		Nonce: "NONCE-secret-value", Reveal: "REVEAL-generated-password"}
}

// TestReplicasShareTickets: two replicas (separate pools, one database)
// see each other's tickets and changes, derive the same form key, and of
// claims racing through both exactly one wins.
func TestReplicasShareTickets(t *testing.T) {
	dsn, ctx := pgtest.Schema(t), ctxFor(t)
	a, b := openTickets(t, dsn, pgtickets.Options{}), openTickets(t, dsn, pgtickets.Options{})
	if !bytes.Equal(a.FormKey(), b.FormKey()) || len(a.FormKey()) != 32 {
		t.Fatal("replicas derived different form keys")
	}
	tk := secretTicket("ticket-started-on-a")
	tk.Stage = consent.StageCode
	if err := a.Add(ctx, tk); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, tk.ID)
	if err != nil || got.Verifier != tk.Verifier || !bytes.Equal(got.Key, tk.Key) {
		t.Fatalf("replica B reads %+v, %v", got, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 10 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(ctx, tk.ID, func(c *consent.Ticket) error {
				if c.Stage != consent.StageCode {
					return errors.New("stale")
				}
				c.Stage = consent.StageSaving
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d claims won across two replicas, want 1", wins)
	}
	if got, err := a.Get(ctx, tk.ID); err != nil || got.Stage != consent.StageSaving {
		t.Fatalf("replica A sees %v, %v after B's claim", got, err)
	}
	if err := b.Delete(ctx, tk.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, tk.ID); !errors.Is(err, consent.ErrTicketNotFound) {
		t.Fatalf("a ticket deleted on B is still on A: %v", err)
	}
}

// TestSealedAtRest: no column holds the ticket id, the derived key, the
// attempt's secrets or the generated password.
func TestSealedAtRest(t *testing.T) {
	dsn, ctx := pgtest.Schema(t), ctxFor(t)
	s := openTickets(t, dsn, pgtickets.Options{})
	tk := secretTicket("ID-the-only-secret-in-the-link")
	if err := s.Add(ctx, tk); err != nil {
		t.Fatal(err)
	}
	row := rawRow(t, dsn)
	for _, secret := range []string{tk.ID, string(tk.Key), tk.State, tk.Verifier, tk.Nonce, tk.Reveal} {
		if bytes.Contains(row, []byte(secret)) {
			t.Errorf("the row holds %q in the clear", secret)
		}
	}
}

// rawRow returns every column of the only ticket row, concatenated.
func rawRow(t *testing.T, dsn string) []byte {
	t.Helper()
	ctx := ctxFor(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var idHash, sealed []byte
	var account, created, expires string
	err = conn.QueryRow(ctx, `SELECT id_hash, account, created::text, expires::text, sealed FROM oauthbridge_consent_tickets`).
		Scan(&idHash, &account, &created, &expires, &sealed)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Join([][]byte{idHash, []byte(account), []byte(created), []byte(expires), sealed}, nil)
}

// TestConfiguredSecret: with Options.Secret, a replica without it (or
// with another) can neither open the tickets nor forge the forms.
func TestConfiguredSecret(t *testing.T) {
	dsn, ctx := pgtest.Schema(t), ctxFor(t)
	a := openTickets(t, dsn, pgtickets.Options{Secret: []byte("configured secret one")})
	same := openTickets(t, dsn, pgtickets.Options{Secret: []byte("configured secret one")})
	other := openTickets(t, dsn, pgtickets.Options{Secret: []byte("configured secret two")})
	none := openTickets(t, dsn, pgtickets.Options{})
	tk := secretTicket("ticket-under-a-configured-secret")
	if err := a.Add(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if _, err := same.Get(ctx, tk.ID); err != nil {
		t.Fatalf("a replica with the same secret: %v", err)
	}
	for name, s := range map[string]*pgtickets.Tickets{"another secret": other, "no secret": none} {
		if _, err := s.Get(ctx, tk.ID); !errors.Is(err, consent.ErrTicketNotFound) {
			t.Errorf("%s: Get = %v, want ErrTicketNotFound", name, err)
		}
		if _, err := s.Newest(ctx, tk.Account); !errors.Is(err, consent.ErrTicketNotFound) {
			t.Errorf("%s: Newest = %v, want ErrTicketNotFound", name, err)
		}
		if bytes.Equal(s.FormKey(), a.FormKey()) {
			t.Errorf("%s: same form key", name)
		}
	}
}

// TestSwappedRowsRefused: a sealed ticket moved to another row (by someone
// who can write the table) does not open there.
func TestSwappedRowsRefused(t *testing.T) {
	dsn, ctx := pgtest.Schema(t), ctxFor(t)
	s := openTickets(t, dsn, pgtickets.Options{})
	x, y := secretTicket("ticket-x"), secretTicket("ticket-y")
	for _, tk := range []*consent.Ticket{x, y} {
		if err := s.Add(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	pgtest.Exec(t, dsn, `UPDATE oauthbridge_consent_tickets SET sealed = (
		SELECT sealed FROM oauthbridge_consent_tickets WHERE id_hash = sha256('ticket-y'::bytea))
		WHERE id_hash = sha256('ticket-x'::bytea)`)
	if _, err := s.Get(ctx, x.ID); !errors.Is(err, consent.ErrTicketNotFound) {
		t.Fatalf("Get of a row holding another ticket's blob = %v, want ErrTicketNotFound", err)
	}
}

// TestOpenConcurrently: replicas starting together migrate once and agree
// on the site secret.
func TestOpenConcurrently(t *testing.T) {
	dsn := pgtest.Schema(t)
	const n = 4
	keys := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := pgtickets.Open(ctx, newPool(t, dsn), pgtickets.Options{})
			if err != nil {
				t.Error(err)
				return
			}
			keys[i] = s.FormKey()
		}()
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatal("replicas opened together derived different keys")
		}
	}
}

// TestSchemaTooNew: a database migrated by a newer oauthbridge is refused.
func TestSchemaTooNew(t *testing.T) {
	dsn := pgtest.Schema(t)
	openTickets(t, dsn, pgtickets.Options{})
	pgtest.Exec(t, dsn, `INSERT INTO oauthbridge_consent_schema_version (version) VALUES (99)`)
	_, err := pgtickets.Open(ctxFor(t), newPool(t, dsn), pgtickets.Options{})
	if !errors.Is(err, pgtickets.ErrSchemaTooNew) {
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
}

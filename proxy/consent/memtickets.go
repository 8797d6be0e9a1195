package consent

import (
	"context"
	"sync"
	"time"
)

// TicketLimits bound a ticket store.
type TicketLimits struct {
	// PerAccount is the most open tickets one account may have (default
	// 5): every refused login of a mail client opens one, and Thunderbird
	// retries on two connections.
	PerAccount int
	// Total is the most open tickets overall (default 1000).
	Total int
}

func (l TicketLimits) withDefaults() TicketLimits {
	if l.PerAccount <= 0 {
		l.PerAccount = 5
	}
	if l.Total <= 0 {
		l.Total = 1000
	}
	return l
}

// MemoryTickets is the in-process TicketStore, for a single oauthbridge
// process. Tickets die with the process; that is fine: a user just logs
// in again for a new link.
type MemoryTickets struct {
	limits TicketLimits
	now    func() time.Time

	mu      sync.Mutex
	tickets map[string]*Ticket
}

var _ TicketStore = (*MemoryTickets)(nil)

// NewMemoryTickets returns an empty store with the given bounds.
func NewMemoryTickets(l TicketLimits) *MemoryTickets {
	return &MemoryTickets{limits: l.withDefaults(), now: time.Now, tickets: map[string]*Ticket{}}
}

// Add implements TicketStore.
func (m *MemoryTickets) Add(_ context.Context, t *Ticket) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked()
	if n, oldest := m.countLocked(t.Account); n >= m.limits.PerAccount {
		if oldest == nil {
			return ErrTooManyTickets
		}
		delete(m.tickets, oldest.ID)
	}
	if len(m.tickets) >= m.limits.Total {
		victim := m.oldestIdleLocked()
		if victim == nil {
			return ErrTooManyTickets
		}
		delete(m.tickets, victim.ID)
	}
	m.tickets[t.ID] = t.Clone()
	return nil
}

// Get implements TicketStore.
func (m *MemoryTickets) Get(_ context.Context, id string) (*Ticket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.liveLocked(id)
	if t == nil {
		return nil, ErrTicketNotFound
	}
	return t.Clone(), nil
}

// Update implements TicketStore.
func (m *MemoryTickets) Update(_ context.Context, id string, fn func(*Ticket) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.liveLocked(id)
	if t == nil {
		return ErrTicketNotFound
	}
	c := t.Clone()
	if err := fn(c); err != nil {
		return err
	}
	m.tickets[id] = c
	return nil
}

// Delete implements TicketStore.
func (m *MemoryTickets) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tickets, id)
	return nil
}

// Newest implements TicketStore.
func (m *MemoryTickets) Newest(_ context.Context, account string) (*Ticket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var best *Ticket
	now := m.now()
	for _, t := range m.tickets {
		if t.Account == account && t.live(now) && (best == nil || t.Created.After(best.Created)) {
			best = t
		}
	}
	if best == nil {
		return nil, ErrTicketNotFound
	}
	return best.Clone(), nil
}

// Len returns the number of live tickets (for tests and metrics).
func (m *MemoryTickets) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked()
	return len(m.tickets)
}

func (m *MemoryTickets) liveLocked(id string) *Ticket {
	t := m.tickets[id]
	if t == nil || !t.live(m.now()) {
		delete(m.tickets, id)
		return nil
	}
	return t
}

// sweepLocked drops expired tickets; O(n) with n bounded by Total.
func (m *MemoryTickets) sweepLocked() {
	now := m.now()
	for id, t := range m.tickets {
		if !t.live(now) {
			delete(m.tickets, id)
		}
	}
}

// countLocked returns how many tickets account has and its oldest idle
// one (nil if all are busy).
func (m *MemoryTickets) countLocked(account string) (int, *Ticket) {
	n := 0
	var oldest *Ticket
	for _, t := range m.tickets {
		if t.Account != account {
			continue
		}
		n++
		if !t.busy() && (oldest == nil || t.Created.Before(oldest.Created)) {
			oldest = t
		}
	}
	return n, oldest
}

func (m *MemoryTickets) oldestIdleLocked() *Ticket {
	var oldest *Ticket
	for _, t := range m.tickets {
		if !t.busy() && (oldest == nil || t.Created.Before(oldest.Created)) {
			oldest = t
		}
	}
	return oldest
}

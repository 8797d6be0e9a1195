package consent

// Busy reports whether a flow is under way that eviction must not cut (a
// device poll, a save, a result not yet shown). A shared TicketStore keeps
// it beside the ticket so that its bounds evict as MemoryTickets does.
func (t *Ticket) Busy() bool { return t.busy() }

// WithDefaults returns l with zero bounds replaced by the defaults, so
// that every TicketStore bounds the same way.
func (l TicketLimits) WithDefaults() TicketLimits { return l.withDefaults() }

package consent_test

import (
	"testing"

	"github.com/oauthbridge/oauthbridge/proxy/consent"
	"github.com/oauthbridge/oauthbridge/proxy/consent/ticketstest"
)

// TestMemoryTicketsConformance: the in-process store passes the suite
// every shared store must pass.
func TestMemoryTicketsConformance(t *testing.T) {
	ticketstest.Run(t, func(_ *testing.T, l consent.TicketLimits) consent.TicketStore {
		return consent.NewMemoryTickets(l)
	})
}

package consent

import (
	"context"
	"net/http"

	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/proxy/consent/oauthflow"
)

// poller is a running device-flow poll for one ticket.
type poller struct{ cancel context.CancelFunc }

// startDevice begins the device flow: the provider's user code goes on the
// page, and a goroutine polls until the user approved, the code or the
// ticket expired, or the attempt was abandoned.
func (s *Service) startDevice(ctx context.Context, w http.ResponseWriter, r *http.Request, t *Ticket) {
	p := s.providers[t.Provider]
	eps, err := p.Resolve(ctx, "")
	var da *oauth2.DeviceAuthResponse
	if err == nil {
		da, err = oauthflow.StartDevice(ctx, eps.OAuth2, p.client())
	}
	if err != nil {
		s.fail(ctx, t, t.Attempt, providerNotice(p.Label, err), err)
		s.backToPage(w, r, t)
		return
	}
	err = s.beginAttempt(ctx, t, s.owner(w, r), StageDevice, func(c *Ticket) {
		c.UserCode, c.VerificationURI, c.VerificationURIComplete = da.UserCode, da.VerificationURI, da.VerificationURIComplete
	})
	if err != nil {
		s.gone(w)
		return
	}
	s.logFlow(t, FlowDevice)
	s.startPoller(t, eps, da)
	s.backToPage(w, r, t)
}

// startPoller runs the poll with a deadline: the device code's expiry or
// the ticket's, whichever is first.
func (s *Service) startPoller(t *Ticket, eps Endpoints, da *oauth2.DeviceAuthResponse) {
	deadline := t.Expires
	if !da.Expiry.IsZero() && da.Expiry.Before(deadline) {
		deadline = da.Expiry
	}
	ctx, cancel := context.WithDeadline(s.ctx, deadline)
	pl := &poller{cancel: cancel}
	s.mu.Lock()
	if old := s.pollers[t.ID]; old != nil {
		old.cancel()
	}
	s.pollers[t.ID] = pl
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.dropPoller(t.ID, pl)
		s.pollDevice(ctx, t.Clone(), eps, da)
	}()
}

func (s *Service) pollDevice(ctx context.Context, t *Ticket, eps Endpoints, da *oauth2.DeviceAuthResponse) {
	p := s.providers[t.Provider]
	tok, err := oauthflow.PollDevice(ctx, eps.OAuth2, p.client(), da)
	// The poll's context is over; storing the outcome gets its own.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
	defer cancel()
	if err != nil {
		notice := providerNotice(p.Label, err)
		if s.ctx.Err() != nil {
			// This process is stopping. With tickets shared between
			// replicas the page may be served by another one: hand the
			// ticket back to the choice, so it does not show a code that
			// nobody polls for any more.
			notice = interruptedNotice
		}
		s.fail(sctx, t, t.Attempt, notice, err)
		return
	}
	if notice, err := s.complete(sctx, t, t.Attempt, tok, "", eps, FlowDevice); err != nil {
		s.fail(sctx, t, t.Attempt, notice, err)
	}
}

// interruptedNotice tells the user that the device flow stopped because
// oauthbridge did.
const interruptedNotice = "The sign-in was interrupted because oauthbridge restarted. Please choose a way to sign in again."

// stopPoller ends the ticket's poll, if one runs.
func (s *Service) stopPoller(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pl := s.pollers[id]; pl != nil {
		pl.cancel()
		delete(s.pollers, id)
	}
}

func (s *Service) dropPoller(id string, pl *poller) {
	pl.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pollers[id] == pl {
		delete(s.pollers, id)
	}
}

// logFlow notes which flow a ticket started.
func (s *Service) logFlow(t *Ticket, f Flow) {
	s.log.Info("consent flow started", zap.String("account", t.Account), zap.String("provider", t.Provider),
		zap.String("flow", string(f)), zap.String("ticket", ticketTag(t.ID)))
}

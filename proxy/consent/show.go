package consent

import (
	"context"
	"net/http"

	"go.uber.org/zap"
)

// showTicket renders the page for the ticket's stage.
func (s *Service) showTicket(ctx context.Context, w http.ResponseWriter, t *Ticket) {
	p := s.providers[t.Provider]
	pg := &page{Title: "Allow mail access", Account: t.Account, Provider: p.Label, Ticket: t.ID,
		CSRF: s.csrfToken("ticket", t.ID), Notice: t.Notice, Expires: expiresText(t.Expires), Created: expiresText(t.Created), FromStart: t.FromStart, Generated: t.Key == nil}
	switch t.Stage {
	case StageDevice:
		pg.Title, pg.Refresh = "Enter the code", 5
		pg.UserCode, pg.VerificationURI, pg.VerificationURIComplete = t.UserCode, t.VerificationURI, t.VerificationURIComplete
		s.render(w, http.StatusOK, "device", pg)
	case StagePaste:
		pg.Title, pg.AuthURL, pg.RedirectURL = "Paste the address", t.AuthURL, t.RedirectURL
		s.render(w, http.StatusOK, "paste", pg)
	case StageSaving:
		pg.Title, pg.Refresh = "Almost done", 2
		s.render(w, http.StatusOK, "saving", pg)
	default:
		s.showChoices(ctx, w, t, p, pg)
	}
}

// showChoices renders the flows that apply; when the provider cannot be
// resolved the page says so instead of offering flows that would fail.
func (s *Service) showChoices(ctx context.Context, w http.ResponseWriter, t *Ticket, p *Provider, pg *page) {
	eps, err := p.Resolve(ctx, s.callbackURL())
	if err != nil {
		s.log.Warn("consent: provider unavailable", zap.String("provider", t.Provider), zap.Error(err))
	} else {
		pg.Flows = p.flows(eps)
		withFormTargets(w, eps.OAuth2.Endpoint.AuthURL)
	}
	s.render(w, http.StatusOK, "choose", pg)
}

// finishPage shows the success page once and ends the ticket. Taking the
// generated password out of the ticket is atomic, so two tabs cannot both
// show it.
func (s *Service) finishPage(w http.ResponseWriter, r *http.Request, t *Ticket) {
	var done *Ticket
	err := s.cfg.Tickets.Update(r.Context(), t.ID, func(c *Ticket) error {
		if c.Stage != StageDone {
			return errStale
		}
		done = c.Clone()
		c.Stage, c.Reveal = StageClosed, ""
		return nil
	})
	_ = s.cfg.Tickets.Delete(r.Context(), t.ID)
	if err != nil {
		s.gone(w)
		return
	}
	s.render(w, http.StatusOK, "done", &page{Title: "All set", Account: done.Account,
		Provider: s.providers[done.Provider].Label, Password: done.Reveal, NewPassword: done.NewPassword,
		StartURL: s.startURL()})
}

func (s *Service) callbackURL() string { return s.public.String() + CallbackPath }

// showToOthers is what a browser sees that did not start the ticket's
// current attempt. The link of a login-started ticket reaches anyone who
// tries to log in as the account, so such a browser never sees another's
// device code or the generated password; while the ticket is still open
// it may start over here, which cancels the other attempt.
func (s *Service) showToOthers(ctx context.Context, w http.ResponseWriter, t *Ticket) {
	switch t.Stage {
	case StageSaving, StageDone, StageClosed:
		s.message(w, http.StatusOK, "Finished elsewhere",
			"This sign-in was completed in another browser. If that was not you, open the start page and choose a new mail password.")
		return
	}
	p := s.providers[t.Provider]
	pg := &page{Title: "Allow mail access", Account: t.Account, Provider: p.Label, Ticket: t.ID,
		CSRF: s.csrfToken("ticket", t.ID), Expires: expiresText(t.Expires), Created: expiresText(t.Created),
		FromStart: t.FromStart, Generated: t.Key == nil}
	if t.Stage != StageChoose {
		pg.Notice = "A sign-in for this link was started in another browser. Starting here cancels it."
	}
	s.showChoices(ctx, w, t, p, pg)
}

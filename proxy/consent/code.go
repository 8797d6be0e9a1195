package consent

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/oauthbridge/oauthbridge/proxy/consent/oauthflow"
)

// startCode begins the authorization code flow: a fresh state, PKCE
// verifier and nonce go into the ticket, a cookie binds the callback to
// this browser, and the browser goes to the provider.
func (s *Service) startCode(ctx context.Context, w http.ResponseWriter, r *http.Request, t *Ticket) {
	p := s.providers[t.Provider]
	eps, err := p.Resolve(ctx, s.callbackURL())
	if err != nil {
		s.fail(ctx, t, t.Attempt, "The provider cannot be reached right now. Please try again in a minute.", err)
		s.backToPage(w, r, t)
		return
	}
	req, err := oauthflow.NewAuthRequest(eps.OAuth2, t.Account, p.AuthParams)
	if err != nil {
		s.fail(ctx, t, t.Attempt, "This way of signing in is not set up. Please choose another.", err)
		s.backToPage(w, r, t)
		return
	}
	if err := s.beginAttempt(ctx, t, s.owner(w, r), StageCode, func(c *Ticket) {
		c.State, c.Verifier, c.Nonce, c.RedirectURL = req.State, req.Verifier, req.Nonce, req.RedirectURL
	}); err != nil {
		s.gone(w)
		return
	}
	s.setFlowCookie(w, t)
	s.logFlow(t, FlowCode)
	http.Redirect(w, r, req.URL, http.StatusSeeOther)
}

// beginAttempt starts a new attempt on the ticket (stopping a device
// poller of an earlier one) and lets set fill in its secrets.
func (s *Service) beginAttempt(ctx context.Context, t *Ticket, owner string, stage Stage, set func(*Ticket)) error {
	s.stopPoller(t.ID)
	return s.cfg.Tickets.Update(ctx, t.ID, func(c *Ticket) error {
		if c.Stage == StageSaving || c.Stage == StageDone || c.Stage == StageClosed {
			return errStale
		}
		c.Attempt++
		c.Stage, c.Notice = stage, ""
		c.clearAttempt()
		c.Owner = owner
		set(c)
		t.Attempt = c.Attempt
		return nil
	})
}

// handleCallback receives the provider's redirect. Without the flow
// cookie it is not a consent-page flow: it may be `oauthbridge authorize`
// in a terminal, which asks the user to paste this address; the page says
// so and touches nothing.
func (s *Service) handleCallback(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	q := r.URL.Query()
	c, err := r.Cookie(flowCookie)
	if err != nil {
		s.render(w, http.StatusOK, "cli", &page{Title: "Almost done"})
		return
	}
	s.clearFlowCookie(w)
	t, err := s.cfg.Tickets.Get(ctx, c.Value)
	if err != nil {
		s.gone(w)
		return
	}
	if t.Stage != StageCode || t.State == "" {
		s.backToPage(w, r, t)
		return
	}
	notice, err := s.finishCode(ctx, t, q.Get("state"), q.Get("code"), q.Get("error"), q.Get("error_description"))
	if err != nil {
		s.fail(ctx, t, t.Attempt, notice, err)
	}
	s.backToPage(w, r, t)
}

// finishCode checks the provider's answer against the attempt and, if it
// holds, redeems the code and completes the consent.
func (s *Service) finishCode(ctx context.Context, t *Ticket, state, code, perr, pdesc string) (string, error) {
	if subtle.ConstantTimeCompare([]byte(state), []byte(t.State)) != 1 {
		return "The answer did not belong to this sign-in (state mismatch), so it was refused. Nothing was saved. Please try again.",
			oauthflow.ErrStateMismatch
	}
	if perr != "" {
		e := &oauthflow.ProviderError{Code: perr, Description: pdesc}
		return providerNotice(s.providers[t.Provider].Label, e), e
	}
	if code == "" {
		return "The provider sent no authorisation. Please try again.", oauthflow.ErrNoCode
	}
	return s.redeem(ctx, t, code, FlowCode)
}

// redeem exchanges code (with the attempt's verifier and redirect URL) and
// completes the consent.
func (s *Service) redeem(ctx context.Context, t *Ticket, code string, flow Flow) (string, error) {
	p := s.providers[t.Provider]
	eps, err := p.Resolve(ctx, t.RedirectURL)
	if err != nil {
		return "The provider cannot be reached right now. Please try again in a minute.", err
	}
	tok, err := oauthflow.Exchange(ctx, eps.OAuth2, p.client(), code, t.Verifier)
	if err != nil {
		return providerNotice(p.Label, err), err
	}
	return s.complete(ctx, t, t.Attempt, tok, t.Nonce, eps, flow)
}

// providerNotice words a provider's refusal for the user.
func providerNotice(label string, err error) string {
	var pe *oauthflow.ProviderError
	switch {
	case errors.Is(err, oauthflow.ErrDenied):
		return "You declined at " + label + ", so nothing was saved. Choose a way below to try again."
	case errors.Is(err, oauthflow.ErrExpired):
		return "The sign-in took too long and expired. Choose a way below to try again."
	case errors.Is(err, oauthflow.ErrNoRefreshToken):
		return label + " did not grant lasting access (no refresh token). Please tell your administrator."
	case errors.As(err, &pe):
		return label + " refused: " + pe.Error() + ". Please try again."
	default:
		return "oauthbridge could not complete the sign-in with " + label + ". Please try again in a minute."
	}
}

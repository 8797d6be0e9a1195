package consent

import (
	"context"
	"errors"
	"net/http"

	"github.com/oauthbridge/oauthbridge/proxy/consent/oauthflow"
)

// startPaste begins paste-back: an authorization request redirecting to
// the provider's registered loopback address; the page shows its link
// and a field for the address the browser ends on.
func (s *Service) startPaste(ctx context.Context, w http.ResponseWriter, r *http.Request, t *Ticket) {
	p := s.providers[t.Provider]
	eps, err := p.Resolve(ctx, p.pasteRedirect())
	if err == nil {
		var req *oauthflow.AuthRequest
		if req, err = oauthflow.NewAuthRequest(eps.OAuth2, t.Account, p.AuthParams); err == nil {
			err = s.beginAttempt(ctx, t, s.owner(w, r), StagePaste, func(c *Ticket) {
				c.State, c.Verifier, c.Nonce, c.RedirectURL, c.AuthURL = req.State, req.Verifier, req.Nonce, req.RedirectURL, req.URL
			})
			s.logFlow(t, FlowPaste)
		}
	}
	if err != nil {
		s.fail(ctx, t, t.Attempt, "The provider cannot be reached right now. Please try again in a minute.", err)
	}
	s.backToPage(w, r, t)
}

// finishPaste takes the pasted address. A mistake in pasting keeps the
// attempt open with a notice; a refusal or a failed exchange ends it.
func (s *Service) finishPaste(ctx context.Context, w http.ResponseWriter, r *http.Request, t *Ticket) {
	if t.Stage != StagePaste {
		s.backToPage(w, r, t)
		return
	}
	code, err := oauthflow.CodeFromRedirect(r.PostFormValue("pasted"), t.State)
	var pe *oauthflow.ProviderError
	switch {
	case errors.As(err, &pe):
		s.fail(ctx, t, t.Attempt, providerNotice(s.providers[t.Provider].Label, err), err)
	case err != nil:
		s.pasteNotice(ctx, t, pasteMistake(err))
	default:
		if notice, err := s.redeem(ctx, t, code, FlowPaste); err != nil {
			s.fail(ctx, t, t.Attempt, notice, err)
		}
	}
	s.backToPage(w, r, t)
}

func pasteMistake(err error) string {
	switch {
	case errors.Is(err, oauthflow.ErrStateMismatch):
		return "That address belongs to another sign-in attempt. Use the sign-in link on this page, then paste the address you end on."
	case errors.Is(err, oauthflow.ErrNoCode):
		return "That address has no authorisation in it. Copy the whole address of the page your browser ended on after signing in."
	default:
		return "That does not look like the address your browser ended on. Copy the whole address from the address bar and paste it again."
	}
}

// pasteNotice shows a notice while keeping the paste attempt.
func (s *Service) pasteNotice(ctx context.Context, t *Ticket, notice string) {
	_ = s.cfg.Tickets.Update(ctx, t.ID, func(c *Ticket) error {
		if c.Attempt != t.Attempt || c.Stage != StagePaste {
			return errStale
		}
		c.Notice = notice
		return nil
	})
}

// restart abandons the current attempt and shows the choices again.
func (s *Service) restart(ctx context.Context, w http.ResponseWriter, r *http.Request, t *Ticket) {
	_ = s.beginAttempt(ctx, t, s.owner(w, r), StageChoose, func(*Ticket) {})
	s.backToPage(w, r, t)
}

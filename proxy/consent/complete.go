package consent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/proxy/consent/oauthflow"
	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// resultGrace keeps a finished ticket long enough for its success page.
const resultGrace = 10 * time.Minute

// complete checks who granted tok and, if it is the account, seals and
// stores the grant and marks the ticket done. On failure it returns the
// text to show the user; the token is then simply dropped.
func (s *Service) complete(ctx context.Context, t *Ticket, attempt int, tok *oauth2.Token, nonce string, eps Endpoints, flow Flow) (string, error) {
	identity, err := s.identity(t.Provider, eps).Identity(ctx, tok, nonce)
	if err != nil {
		return identityNotice(s.providers[t.Provider].Label, err), err
	}
	accepted := append([]string{t.UpstreamUser}, s.cfg.Aliases[t.Account]...)
	if !oauthflow.Matches(identity, t.Account, accepted...) {
		label := s.providers[t.Provider].Label
		return fmt.Sprintf("You signed in at %s as %s, but this link is for %s. Nothing was saved. "+
				"Sign out at %s (or use a private browser window) and try again as %s.",
				label, identity, t.Account, label, t.Account),
			fmt.Errorf("identity %q does not match account %s", identity, t.Account)
	}
	if err := s.claim(ctx, t.ID, attempt); err != nil {
		return "This sign-in was replaced by a newer one on this page.", err
	}
	reveal, err := s.save(ctx, t, tok)
	if err != nil {
		s.unclaim(t.ID)
		return "oauthbridge could not save the permission. Nothing changed; please try again in a minute.", err
	}
	if s.cfg.OnSaved != nil {
		s.cfg.OnSaved(t.Account)
	}
	s.markDone(ctx, t.ID, identity, reveal)
	s.log.Info("consent saved", zap.String("account", t.Account), zap.String("provider", t.Provider),
		zap.String("identity", identity), zap.String("flow", string(flow)),
		zap.String("ticket", ticketTag(t.ID)), zap.Bool("generated_password", reveal != ""))
	return "", nil
}

// identityNotice explains to the user why their sign-in was not taken.
func identityNotice(label string, err error) string {
	switch {
	case errors.Is(err, oauthflow.ErrBadIDToken):
		return "The answer from " + label + " could not be verified, so nothing was saved. Please try again."
	case errors.Is(err, oauthflow.ErrNoIdentity):
		return label + " did not say who signed in, so oauthbridge cannot check that it was you. Nothing was saved. Please tell your administrator."
	default:
		return "oauthbridge could not ask " + label + " who signed in. Nothing was saved. Please try again in a minute."
	}
}

// claim moves the ticket to saving, unless the attempt was superseded or
// another answer already won. It extends the ticket so the result page
// can still be shown.
func (s *Service) claim(ctx context.Context, id string, attempt int) error {
	return s.cfg.Tickets.Update(ctx, id, func(c *Ticket) error {
		if c.Attempt != attempt || c.Stage == StageSaving || c.Stage == StageDone || c.Stage == StageClosed {
			return errStale
		}
		c.Stage = StageSaving
		if until := time.Now().Add(resultGrace); c.Expires.Before(until) {
			c.Expires = until
		}
		return nil
	})
}

// unclaim returns a ticket whose save failed to the choice.
func (s *Service) unclaim(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.cfg.Tickets.Update(ctx, id, func(c *Ticket) error {
		c.Stage, c.Notice = StageChoose, "oauthbridge could not save the permission. Nothing changed; please try again in a minute."
		c.clearAttempt()
		return nil
	})
}

// save seals tok under the ticket's key, or under a new generated
// password, which it returns.
func (s *Service) save(ctx context.Context, t *Ticket, tok *oauth2.Token) (string, error) {
	kdf, key, reveal := t.KDF, t.Key, ""
	if key == nil {
		reveal, kdf = generatePassword(), s.cfg.KDF()
		var err error
		if key, err = s.derive(ctx, []byte(reveal), kdf); err != nil {
			return "", err
		}
	}
	if err := s.cfg.Broker.SaveSealed(ctx, t.Account, t.Provider, t.UpstreamUser, kdf, key, tok); err != nil {
		return "", fmt.Errorf("save grant: %w", err)
	}
	return reveal, nil
}

// markDone records the result for the success page and forgets the key.
func (s *Service) markDone(ctx context.Context, id, identity, reveal string) {
	err := s.cfg.Tickets.Update(ctx, id, func(c *Ticket) error {
		c.Stage, c.Identity, c.Reveal, c.Notice = StageDone, identity, reveal, ""
		c.Key, c.KDF = nil, tokenstore.KDFParams{}
		c.clearAttempt()
		return nil
	})
	if err != nil {
		s.log.Warn("consent: grant saved but the ticket could not be closed", zap.String("ticket", ticketTag(id)), zap.Error(err))
	}
}

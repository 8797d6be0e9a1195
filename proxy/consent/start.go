package consent

import (
	"context"
	"net/http"

	"go.uber.org/zap"
)

// minPasswordLen is the least length of a password chosen on the start
// page. Argon2id makes each guess expensive, but not a one-letter
// password.
const minPasswordLen = 8

// handleStartPage shows the start page: for a new device or a forgotten
// password, the user names their address and (unless the policy
// generates one) chooses a new password.
func (s *Service) handleStartPage(w http.ResponseWriter, r *http.Request) {
	binding := s.startBinding(w, r)
	s.render(w, http.StatusOK, "start", &page{Title: "Set up mail sign-in",
		CSRF: s.csrfToken("start", binding), Generated: s.cfg.RequireGeneratedPassword})
}

// handleStartPost opens a ticket for the named account and sends the
// browser to its consent page. The account's current record is not
// touched until that consent succeeds.
func (s *Service) handleStartPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	c, cerr := r.Cookie(startCookie)
	if err := r.ParseForm(); err != nil || cerr != nil || !s.csrfOK(r, "start", c.Value) {
		s.message(w, http.StatusForbidden, "That did not work",
			"This form did not come from this page (or the page is too old). Open the start page again and retry.")
		return
	}
	address := r.PostFormValue("address")
	retry := func(notice string) {
		s.render(w, http.StatusOK, "start", &page{Title: "Set up mail sign-in", Account: address, Notice: notice,
			CSRF: s.csrfToken("start", c.Value), Generated: s.cfg.RequireGeneratedPassword})
	}
	acct, ok := s.account(address)
	if !ok {
		retry("oauthbridge has no account for that address. Check it, or ask your administrator.")
		return
	}
	password, notice := s.chosenPassword(r)
	if notice != "" {
		retry(notice)
		return
	}
	t, err := s.startTicket(r.Context(), acct, password)
	if err != nil {
		s.log.Warn("consent: start page", zap.String("account", acct.Name), zap.Error(err))
		retry("Too many sign-ins are in progress right now. Please try again in a few minutes.")
		return
	}
	s.backToPage(w, r, t)
}

// account resolves a typed address to a configured account with a known
// provider.
func (s *Service) account(address string) (Account, bool) {
	if s.cfg.Accounts == nil || address == "" || len(address) > 320 {
		return Account{}, false
	}
	a, ok := s.cfg.Accounts(address)
	if !ok || s.providers[a.Provider] == nil {
		return Account{}, false
	}
	if a.UpstreamUser == "" {
		a.UpstreamUser = a.Name
	}
	return a, true
}

// chosenPassword returns the new password from the form ("" for a
// generated one) or a notice saying what is wrong with it.
func (s *Service) chosenPassword(r *http.Request) (string, string) {
	if s.cfg.RequireGeneratedPassword {
		return "", ""
	}
	pw, confirm := r.PostFormValue("password"), r.PostFormValue("confirm")
	switch {
	case pw != confirm:
		return "", "The two passwords are not the same. Please type them again."
	case pw != "" && len([]rune(pw)) < minPasswordLen:
		return "", "The new password is too short: use at least 8 characters, or leave both fields empty to get one made for you."
	}
	return pw, ""
}

// startTicket opens a ticket for a start-page consent.
func (s *Service) startTicket(ctx context.Context, a Account, password string) (*Ticket, error) {
	t := s.newTicket(a.Name, a.Provider, a.UpstreamUser)
	t.FromStart = true
	if password != "" {
		t.KDF, t.NewPassword = s.cfg.KDF(), true
		key, err := s.derive(ctx, []byte(password), t.KDF)
		if err != nil {
			return nil, err
		}
		t.Key = key
	}
	if err := s.cfg.Tickets.Add(ctx, t); err != nil {
		return nil, err
	}
	s.log.Info("consent started from the start page", zap.String("account", a.Name), zap.String("provider", a.Provider),
		zap.String("ticket", ticketTag(t.ID)), zap.Bool("generated_password", t.Key == nil))
	return t, nil
}

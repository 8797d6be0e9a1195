package consent

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// maxForm bounds a posted form: the largest field is a pasted address.
const maxForm = 16 << 10

// requestTimeout bounds one request's calls to the provider.
const requestTimeout = 30 * time.Second

func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleStartPage)
	mux.HandleFunc("POST /{$}", s.handleStartPost)
	mux.HandleFunc("GET /consent/{ticket}", s.handleTicketPage)
	mux.HandleFunc("POST /consent/{ticket}/{action}", s.handleTicketPost)
	mux.HandleFunc("GET "+CallbackPath, s.handleCallback)
	mux.HandleFunc("GET /static/style.css", s.serveStyle)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		s.message(w, http.StatusNotFound, "Page not found", "There is nothing at this address.")
	})
	return secure(mux)
}

// handleTicketPage shows a ticket's page for its stage. A done ticket's
// page is shown once: it ends the ticket.
func (s *Service) handleTicketPage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	t, err := s.cfg.Tickets.Get(ctx, r.PathValue("ticket"))
	if err != nil {
		s.gone(w)
		return
	}
	if !isOwner(r, t) {
		s.showToOthers(ctx, w, t)
		return
	}
	if t.Stage == StageDone {
		s.finishPage(w, r, t)
		return
	}
	s.showTicket(ctx, w, t)
}

// handleTicketPost runs a form action on a ticket, after the CSRF check.
func (s *Service) handleTicketPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.message(w, http.StatusBadRequest, "That did not work", "The form could not be read. Go back and try again.")
		return
	}
	id := r.PathValue("ticket")
	if !s.csrfOK(r, "ticket", id) {
		s.message(w, http.StatusForbidden, "That did not work",
			"This form did not come from this page (or the page is too old). Open your link again and retry.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	t, err := s.cfg.Tickets.Get(ctx, id)
	if err != nil {
		s.gone(w)
		return
	}
	action := r.PathValue("action")
	if action == "paste" && !isOwner(r, t) {
		s.message(w, http.StatusForbidden, "That did not work",
			"This sign-in was started in another browser. Open your link again to start over here.")
		return
	}
	switch action {
	case "code":
		s.startCode(ctx, w, r, t)
	case "device":
		s.startDevice(ctx, w, r, t)
	case "paste-start":
		s.startPaste(ctx, w, r, t)
	case "paste":
		s.finishPaste(ctx, w, r, t)
	case "restart":
		s.restart(ctx, w, r, t)
	default:
		s.message(w, http.StatusNotFound, "Page not found", "There is nothing at this address.")
	}
}

// backToPage sends the browser to the ticket's page (303, so a reload
// does not post again).
func (s *Service) backToPage(w http.ResponseWriter, r *http.Request, t *Ticket) {
	http.Redirect(w, r, "/consent/"+t.ID, http.StatusSeeOther)
}

// fail puts the ticket back to the choice with a notice for the user, and
// logs why.
func (s *Service) fail(ctx context.Context, t *Ticket, attempt int, notice string, err error) {
	s.log.Warn("consent attempt failed", zap.String("account", t.Account), zap.String("provider", t.Provider),
		zap.String("ticket", ticketTag(t.ID)), zap.Error(err))
	uerr := s.cfg.Tickets.Update(ctx, t.ID, func(c *Ticket) error {
		if c.Attempt != attempt || c.Stage == StageDone {
			return errStale
		}
		c.Stage, c.Notice = StageChoose, notice
		c.clearAttempt()
		return nil
	})
	if uerr != nil && !errors.Is(uerr, errStale) && !errors.Is(uerr, ErrTicketNotFound) {
		s.log.Warn("consent ticket update", zap.String("ticket", ticketTag(t.ID)), zap.Error(uerr))
	}
}

// errStale: the answer belongs to an attempt the user has abandoned.
var errStale = errors.New("consent: attempt superseded")

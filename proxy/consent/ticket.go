package consent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// Stage is where a ticket's consent stands.
type Stage string

// The stages of a ticket.
const (
	// StageChoose: the page offers the flows.
	StageChoose Stage = "choose"
	// StageCode: the browser was sent to the provider (auth code flow).
	StageCode Stage = "code"
	// StageDevice: the user is to enter a code at the provider; a poller
	// runs.
	StageDevice Stage = "device"
	// StagePaste: the page waits for the pasted redirect address.
	StagePaste Stage = "paste"
	// StageSaving: a grant was obtained and is being stored.
	StageSaving Stage = "saving"
	// StageDone: the grant is stored; the next page view shows the result
	// once and ends the ticket.
	StageDone Stage = "done"
	// StageClosed: the result was shown; the ticket is being deleted.
	StageClosed Stage = "closed"
)

// Ticket is one pending consent. The ID, Key, attempt secrets and Reveal
// are secret; the store must keep tickets in memory or encrypted.
type Ticket struct {
	// ID is 256 random bits, base64url: the only secret in the link.
	ID string
	// Account, Provider and UpstreamUser say whose consent this is.
	Account, Provider, UpstreamUser string
	// KDF and Key: the sealing key derived from the login password. Key
	// is nil when the password is generated at success.
	KDF tokenstore.KDFParams
	Key []byte
	// NewPassword is true when the user chose a new password on the start
	// page (the success text differs).
	NewPassword bool
	// FromStart is true for tickets opened on the start page.
	FromStart bool
	// Created and Expires bound the ticket's life.
	Created, Expires time.Time
	// Stage is where the consent stands; Notice is the plain-language
	// outcome of the last failed attempt, shown on the page.
	Stage  Stage
	Notice string
	// Attempt counts flow starts, so that a late answer to an abandoned
	// attempt cannot complete the ticket.
	Attempt int
	// State, Verifier, Nonce and RedirectURL belong to the current
	// authorization code attempt; AuthURL is where paste-back sends the
	// user.
	State, Verifier, Nonce, RedirectURL, AuthURL string
	// UserCode and VerificationURI(Complete) belong to the current device
	// attempt.
	UserCode, VerificationURI, VerificationURIComplete string
	// Identity is who signed in, once known.
	Identity string
	// Reveal is the generated password, kept until the success page has
	// shown it once.
	Reveal string
	// Owner is the hash of the owner cookie of the browser that started
	// the current attempt: only that browser sees the attempt's code and
	// its result. A login-started link is handed to anyone who tries to
	// log in as the account, so the link alone must not reveal anything.
	Owner string
}

// Clone returns a deep copy.
func (t *Ticket) Clone() *Ticket {
	c := *t
	c.KDF.Salt = append([]byte(nil), t.KDF.Salt...)
	if t.Key != nil {
		c.Key = append([]byte(nil), t.Key...)
	}
	return &c
}

// live reports whether the ticket may still be used at now.
func (t *Ticket) live(now time.Time) bool { return now.Before(t.Expires) }

// busy reports whether a flow is under way that eviction must not cut:
// any stage past the choice, including a user away at the provider's
// sign-in page (code) or about to paste. Otherwise a stream of refused
// logins, each opening a ticket, could evict the one a user is finishing.
func (t *Ticket) busy() bool {
	return t.Stage != StageChoose && t.Stage != ""
}

// clearAttempt forgets the secrets of the current attempt.
func (t *Ticket) clearAttempt() {
	t.State, t.Verifier, t.Nonce, t.RedirectURL, t.AuthURL = "", "", "", "", ""
	t.UserCode, t.VerificationURI, t.VerificationURIComplete = "", "", ""
}

// ticketTag is a short, one-way tag of a ticket id for log lines.
func ticketTag(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:4])
}

// Ticket store errors.
var (
	// ErrTicketNotFound: unknown, expired or already used.
	ErrTicketNotFound = errors.New("consent: link unknown, expired or already used")
	// ErrTooManyTickets: the store is full of consents in progress.
	ErrTooManyTickets = errors.New("consent: too many consents in progress, try again later")
)

// TicketStore keeps open tickets. Implementations must be safe for
// concurrent use, return copies, and never return an expired ticket.
// Several replicas behind one public URL need a shared implementation.
type TicketStore interface {
	// Add stores a new ticket, evicting within its bounds (the account's
	// oldest, then the oldest idle one overall) or failing with
	// ErrTooManyTickets.
	Add(ctx context.Context, t *Ticket) error
	// Get returns a copy of the live ticket id, or ErrTicketNotFound.
	Get(ctx context.Context, id string) (*Ticket, error)
	// Update applies fn to the live ticket id atomically; fn's error
	// aborts the update and is returned.
	Update(ctx context.Context, id string, fn func(*Ticket) error) error
	// Delete ends a ticket; deleting a missing one is not an error.
	Delete(ctx context.Context, id string) error
	// Newest returns a copy of the account's most recent live ticket, or
	// ErrTicketNotFound.
	Newest(ctx context.Context, account string) (*Ticket, error)
}

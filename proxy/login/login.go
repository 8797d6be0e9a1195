// Package login is the one path every front end takes from "a user name and
// a password arrived" to "here is a fresh access token and where to use it".
//
// A front end (IMAP, POP3, SMTP) parses its protocol's login command, builds
// a Request and calls an Authenticator. The answer is either a Grant, or an
// error that the front end maps to its protocol's reply using the sentinel
// errors below. Nothing in a returned error's text is secret, and the text
// of ErrBadCredentials is the same whether or not the account exists.
//
// Service keeps these invariants against password guessing (SECURITY.md):
//   - an unknown user costs the same as a wrong password: the same store
//     read and an Argon2id derivation with the current parameters;
//   - a wrong password always pays a full derivation, a right one is
//     remembered (verifier.go); derivations run at most GOMAXPROCS at once;
//   - failed logins are throttled per source and per account (throttle.go,
//     windows documented on ThrottleConfig), locked attempts are refused
//     before any derivation, and the owner's usual address is spared;
//   - a wrong password never changes the store; a right one re-seals a
//     record whose KDF parameters are weaker than the current ones (kdf.go);
//   - every attempt gives one line to the audit stream (audit.go), whose
//     shape deploy/fail2ban depends on.
package login

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// Protocol names a front end.
type Protocol string

// The protocols oauthbridge bridges.
const (
	IMAP Protocol = "imap"
	POP3 Protocol = "pop3"
	SMTP Protocol = "smtp"
)

// Request is one login attempt as a front end received it.
type Request struct {
	Protocol Protocol
	// Username is the name as the client typed it.
	Username string
	// Password is the local password. Callers must not log it.
	Password string
	// Remote is the client's address, for throttling and audit.
	Remote net.Addr
}

// Grant is what a successful Authenticate returns: who the user is, and
// how to log in upstream for them.
type Grant struct {
	// Account is the canonical account name (lower case).
	Account string
	// Provider is the configured provider's name.
	Provider string
	// UpstreamUser is the user name to present upstream.
	UpstreamUser string
	// AccessToken is a currently valid OAuth 2.0 access token. Secret.
	AccessToken string
	// Mechanism is the upstream SASL mechanism: "XOAUTH2" or "OAUTHBEARER".
	Mechanism string
	// Upstream is where to connect for the request's protocol.
	Upstream upstream.Endpoint
}

// String redacts the token so a Grant can never leak through %v.
func (g *Grant) String() string {
	return fmt.Sprintf("grant{account=%s provider=%s upstream=%s}", g.Account, g.Provider, g.Upstream.Addr)
}

// Authenticator turns a password login into a Grant.
type Authenticator interface {
	Authenticate(ctx context.Context, req Request) (*Grant, error)
	// Rejected tells the authenticator that the upstream refused the
	// grant's access token, so the next login must not reuse it.
	Rejected(g *Grant)
}

// Sentinel errors a front end branches on to choose its reply.
var (
	// ErrBadCredentials: unknown user or wrong password (deliberately one
	// error for both).
	ErrBadCredentials = errors.New("invalid user name or password")
	// ErrThrottled: too many failures from this source or for this account.
	ErrThrottled = errors.New("too many failed logins, try again later")
	// ErrTemporary: the identity provider (or the store) could not be
	// reached or failed in a way that may pass. The stored grant is kept.
	ErrTemporary = errors.New("temporary failure")
	// ErrNoProtocol: the account's provider has no upstream for the protocol.
	ErrNoProtocol = errors.New("no upstream server configured for this protocol")
)

// ConsentError says the account has no usable grant: the user must
// authorise (again) in a browser or with the authorize command. Message is
// written for the end user and may carry a link; it is never secret.
type ConsentError struct {
	Account string
	// URL is the consent link, empty when no consent page is available.
	URL string
	// Message is the complete text for the user.
	Message string
}

// Error leaves the link out: error texts end up in logs and the audit
// stream, and the link's ticket is a credential for the consent flow.
// Front ends send Message, with the link, to the client only.
func (e *ConsentError) Error() string {
	if e.URL == "" {
		return e.Message
	}
	return "authorisation needed for " + e.Account + " (consent link issued)"
}

// ErrNeedsConsent matches any *ConsentError with errors.Is.
var ErrNeedsConsent = errors.New("authorisation needed")

// Is makes errors.Is(err, ErrNeedsConsent) true for a *ConsentError.
func (e *ConsentError) Is(target error) bool { return target == ErrNeedsConsent }

package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// AccountStatus is what an administrator sees of one account. It holds no
// secret.
type AccountStatus struct {
	Account  string `json:"account"`
	Provider string `json:"provider"`
	// State is "ok", "needs_consent" or "revoked".
	State string `json:"state"`
	// Reason explains State when it is not ok.
	Reason       string    `json:"reason,omitempty"`
	UpstreamUser string    `json:"upstream_user,omitempty"`
	LastLogin    time.Time `json:"last_login,omitzero"`
	LastRefresh  time.Time `json:"last_refresh,omitzero"`
	TokenExpiry  time.Time `json:"token_expiry,omitzero"`
	Created      time.Time `json:"created,omitzero"`
	// ActiveSessions counts open, logged-in sessions; -1 when unknown
	// (no running proxy to ask).
	ActiveSessions int `json:"active_sessions"`
}

// Activity is what the status needs from the running proxy (see package
// activity); nil when there is none.
type Activity interface {
	Active() map[string]int
	LastLogins() map[string]time.Time
}

// ErrNoAccount: the store has no record for the account.
var ErrNoAccount = errors.New("no such account in the token store")

// Accounts lists every stored account, sorted by name, with what act
// knows about it.
func Accounts(ctx context.Context, store tokenstore.Store, act Activity) ([]AccountStatus, error) {
	recs, err := store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	active, last := snapshot(act)
	out := make([]AccountStatus, 0, len(recs))
	for _, r := range recs {
		out = append(out, statusOf(r, active, last))
	}
	return out, nil
}

// Account returns one account's status, or ErrNoAccount.
func Account(ctx context.Context, store tokenstore.Store, act Activity, account string) (AccountStatus, error) {
	r, err := store.Get(ctx, account)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return AccountStatus{}, fmt.Errorf("%s: %w", account, ErrNoAccount)
	} else if err != nil {
		return AccountStatus{}, fmt.Errorf("read %s: %w", account, err)
	}
	active, last := snapshot(act)
	return statusOf(r, active, last), nil
}

func snapshot(act Activity) (map[string]int, map[string]time.Time) {
	if act == nil {
		return nil, nil
	}
	return act.Active(), act.LastLogins()
}

// statusOf keeps a record's non-secret fields; the in-memory last login
// wins when it is newer than the stored one (which is written lazily).
func statusOf(r *tokenstore.Record, active map[string]int, last map[string]time.Time) AccountStatus {
	s := AccountStatus{
		Account: r.Account, Provider: r.Provider, State: string(r.Status), Reason: r.StatusReason,
		UpstreamUser: r.UpstreamUser, LastLogin: r.LastLogin, LastRefresh: r.LastRefresh,
		TokenExpiry: r.AccessExpiry, Created: r.Created, ActiveSessions: -1,
	}
	if r.UpstreamUser == r.Account {
		s.UpstreamUser = ""
	}
	if t := last[r.Account]; t.After(s.LastLogin) {
		s.LastLogin = t
	}
	if active != nil {
		s.ActiveSessions = active[r.Account]
	}
	return s
}

// StateText is State for people: "ok", "needs consent", "revoked".
func (s AccountStatus) StateText() string {
	switch tokenstore.Status(s.State) {
	case tokenstore.StatusNeedsConsent:
		return "needs consent"
	case tokenstore.StatusOK, tokenstore.StatusRevoked:
		return s.State
	}
	return "unknown (" + s.State + ")"
}

// Package broker turns an account's sealed OAuth 2.0 grant into a valid
// access token, refreshing it at the identity provider when needed
// (RFC 6749 section 6), and stores new grants after consent.
//
// Invariants:
//   - One refresh per account at a time: concurrent callers in this
//     process share one refresh (single-flight), and the refresh runs
//     inside tokenstore.Store.Update, which re-reads the newest grant under
//     the account's lock, so replicas sharing a store also refresh once:
//     the second finds the first's fresh token and uses it.
//   - A rotated refresh token is sealed and written before the new access
//     token is handed to anyone; if that write fails the caller gets
//     ErrTemporary, not the token.
//   - Only invalid_grant, interaction_required, consent_required,
//     login_required (and Dex's 400 refusal of a revoked token) from the
//     identity provider mark an account as needing consent (the sealed
//     grant is kept). invalid_client and unauthorized_client blame the
//     proxy's own registration: logged as an error for the operator and
//     temporary for users, whose grants stay valid. Every other failure
//     (network, timeout, 5xx, malformed answer, store trouble) is
//     ErrTemporary and leaves the stored record exactly as it was.
//   - Every call to the identity provider has a deadline, and the refresh
//     is detached from the caller's context: a client that hangs up
//     mid-refresh cannot make the broker lose a rotated refresh token.
//   - Tokens, passwords and keys never appear in log lines or error texts;
//     Token redacts itself in fmt, zap and JSON output. Errors from the
//     identity provider are reduced to status and error code, never the
//     response body.
//   - A cached access token is only handed to a caller holding the same
//     key that opened the grant, so a wrong password never rides on the
//     cache.
package broker

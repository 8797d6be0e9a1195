// Package admin is the operator's view of the proxy: every account's
// state (ok, needs consent, revoked), provider, last successful login,
// last refresh, access token expiry and open sessions, as an HTML status
// page and as JSON on the HTTP listener, and as data for the `oauthbridge
// accounts` command. It also revokes accounts: locally, by marking the
// record and dropping its sealed grant, and at the identity provider with
// OAuth 2.0 Token Revocation (RFC 7009) where the provider offers it.
//
// Invariants:
//   - Nothing it shows or returns is secret: records are reduced to their
//     non-secret fields (never Sealed or KDF parameters), and errors from
//     the revocation endpoint are reduced to status and error code.
//   - The page answers only requests that reach it over loopback without
//     a proxy in between (no Forwarded or X-Forwarded-For header), unless
//     an admin password is configured; then any request with that
//     password (HTTP basic authentication, RFC 7617, user "admin") is
//     answered too. Failed passwords are rate limited.
//   - The page only reads; it changes nothing, so it needs no CSRF
//     protection. It is never cached and never framed.
package admin

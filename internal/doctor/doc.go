// Package doctor checks, step by step, everything a working login needs,
// for `oauthbridge doctor`: the configuration, the state directory's
// permissions, each provider's identity provider (reachable over HTTPS
// with a verified certificate) and mail servers (TCP, TLS with
// verification, the protocol's greeting, STARTTLS where configured), and
// for one account a real token refresh and a real upstream login with
// every protocol its provider serves.
//
// Each step reports pass or fail with what it saw and, on failure, a hint
// that says what to fix. Steps that take more than a moment report
// progress, so a person at a terminal knows the tool is waiting on the
// network, not stuck.
//
// Invariants: every network step runs under its own deadline; no output
// contains a password, token or client secret (server replies are
// reduced to one printable line and scrubbed of the token); the upstream
// dialogues are the front ends' own (imapfront, pop3front, smtpfront
// LoginUpstream), so doctor tests what clients will use. A refresh runs
// through the broker, so a rotated refresh token is stored as at any
// login.
package doctor

// Package pop3front is oauthbridge's POP3 front end: it speaks the
// AUTHORIZATION state of POP3 to a password-only client, logs in to the
// real server with the account's OAuth 2.0 access token (AUTH XOAUTH2 or
// OAUTHBEARER), and from then on relays bytes untouched, so the whole
// TRANSACTION state (STAT, LIST, UIDL, RETR, TOP, DELE, ...) is the
// upstream server's own.
//
// It follows RFC 1939 (POP3), RFC 2449 (CAPA, PIPELINING, RESP-CODES,
// the 255-octet command line), RFC 2595 (STLS), RFC 5034 (AUTH with
// initial response and "*" to cancel), RFC 3206 (the [AUTH] and
// [SYS/TEMP] response codes, AUTH-RESP-CODE) and, upstream, the XOAUTH2
// profile (Google, Microsoft) and RFC 7628 (OAUTHBEARER).
//
// Invariants:
//   - Before login every input is bounded: line length (Server.MaxLine),
//     the number of commands (Server.MaxCommands) and the time from
//     connect to login (Server.LoginTimeout). Bad input gets "-ERR" and
//     never a panic.
//   - Passwords and access tokens never reach a log line, an error text or
//     a reply. Upstream reply texts shown to the user are scrubbed of the
//     token before use.
//   - A wrong password and an unknown user get byte-identical replies.
//   - Bytes a client pipelines after STLS, before the TLS handshake, are
//     discarded (the STARTTLS command injection class of bugs); bytes it
//     pipelines after PASS or AUTH are kept and reach the upstream.
//   - After "+OK Logged in" the proxy never parses a byte again.
//
// The sub-package pop3test is a small in-memory POP3 server that accepts
// only OAuth logins, for tests of this package and of the whole daemon.
package pop3front

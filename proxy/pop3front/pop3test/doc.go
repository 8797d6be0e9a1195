// Package pop3test is a small POP3 server for tests: it listens on
// 127.0.0.1 (clear, STLS, or implicit TLS), accepts only OAuth logins
// (AUTH XOAUTH2, and OAUTHBEARER when enabled) with tokens checked by a
// caller-supplied function, and serves in-memory maildrops.
//
// It behaves like the OAuth-only servers oauthbridge logs in to: a bad
// token gets the XOAUTH2 JSON error challenge, which the client must
// answer with an empty line, and then "-ERR [AUTH]" (RFC 3206); it can
// insist on one AUTH style (initial response on the command line, or
// "AUTH XOAUTH2" then "+" then the credentials, as Microsoft's server
// does). After login it implements RFC 1939's STAT, LIST, UIDL, RETR
// (with dot-stuffing), DELE, RSET, NOOP and QUIT (which commits
// deletions), and CAPA (RFC 2449).
//
// Invariants: every read has a deadline, lines are bounded, and Close
// ends every connection and waits for its goroutine, so tests leak
// nothing. It is not a general POP3 server: no TOP, no locking between
// concurrent sessions of one user beyond what keeps memory consistent.
package pop3test

// Package securitytest checks, over real TCP connections on 127.0.0.1,
// the security properties that every protocol front end must have
// together with the listener and the login path (issue 7, SECURITY.md):
//
//   - an unknown user and a wrong password get the same answer;
//   - no secret (password, access or refresh token, client secret) reaches
//     a log line, even at debug level, over a whole session;
//   - a client that trickles bytes is cut at the login timeout;
//   - a client that floods input before login (100 MB of garbage, a 2 GB
//     IMAP literal) is cut off with bounded memory;
//   - a client that stops reading after login cannot make the proxy
//     buffer without bound.
//
// The package has no code of its own: its tests run a table of front ends
// (frontEnds in stack_test.go), so a new front end is added there once and
// inherits every check.
package securitytest

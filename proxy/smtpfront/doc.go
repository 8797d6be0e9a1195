// Package smtpfront is oauthbridge's SMTP submission front end.
//
// It speaks the pre-authentication part of ESMTP itself (RFC 5321 greeting,
// EHLO/HELO, NOOP, RSET, QUIT; STARTTLS per RFC 3207; AUTH PLAIN and AUTH
// LOGIN per RFC 4954; enhanced status codes per RFC 2034; PIPELINING per
// RFC 2920), turns the password login into a grant through
// login.Authenticator, logs in to the provider's submission server with
// AUTH XOAUTH2 (or OAUTHBEARER, RFC 7628) using the client's own EHLO name,
// and then relays bytes both ways with proxy.Relay without parsing them.
//
// Invariants:
//   - Before login every input is bounded: line length (Server.MaxLine),
//     number of commands (Server.MaxCommands) and time (Server.LoginTimeout).
//   - MAIL, RCPT, DATA and BDAT are never accepted before AUTH, so no mail
//     is ever handled by the proxy itself.
//   - Bytes a client pipelines after STARTTLS are discarded (command
//     injection, RFC 3207 section 6); bytes pipelined after AUTH are kept
//     in the client's buffered reader and are the first thing relayed.
//   - The upstream session is in the state the client believes it is in:
//     it has seen EHLO with the client's name and a successful AUTH, and no
//     mail transaction has started on either side.
//   - Passwords and access tokens never appear in replies, errors or logs.
//     Upstream reply texts (never secret) are passed on to the user where
//     they explain a refusal.
package smtpfront

// Package imapfront is oauthbridge's IMAP front end: it speaks the
// not-authenticated state of IMAP to a password-only mail client, turns
// its LOGIN or AUTHENTICATE into a login.Request, logs in to the real
// server with the resulting access token (AUTHENTICATE XOAUTH2 or
// OAUTHBEARER), and then relays bytes untouched.
//
// It follows RFC 3501 and RFC 9051 (the pre-authentication subset:
// CAPABILITY, NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE), RFC 4959
// (SASL-IR), RFC 7888 (LITERAL+), RFC 2971 (ID), RFC 2595 and RFC 8314
// (TLS), RFC 5530 (response codes) and, upstream, RFC 7628 and Google's
// and Microsoft's XOAUTH2.
//
// Invariants:
//   - Before login every input is bounded: line length, literal size,
//     number of commands, and the whole phase's duration. Bad input gets
//     a BAD (or a BYE when the stream cannot be resynchronised), never a
//     panic.
//   - Bytes a client pipelines after STARTTLS are discarded before the
//     TLS handshake (the CVE-2011-0411 command injection); the upstream
//     side likewise refuses plaintext that follows its STARTTLS OK.
//   - Passwords and tokens never appear in log lines or error texts;
//     commands are logged by name only.
//   - After the tagged OK the front end parses nothing: bytes the client
//     pipelined behind its login, and bytes the upstream sent behind its
//     OK, are handed to proxy.Relay ahead of the rest of each stream
//     (proxy.Drain); the login-phase readers are then dropped.
//
// Session results written to proxy.Session.Result: ok, bad_credentials,
// needs_consent, throttled, temporary, no_upstream, upstream_refused,
// upstream_unreachable, upstream_tls, upstream_unavailable,
// upstream_protocol, internal_error, logout, closed, protocol_error,
// client_tls, timeout, shutdown, too_many_commands.
package imapfront

// Package smtptest runs an in-process SMTP submission server that accepts
// only OAuth logins, for tests of oauthbridge's SMTP front end and of
// anything else that logs in to a provider with XOAUTH2 or OAUTHBEARER.
//
// The server is github.com/emersion/go-smtp on 127.0.0.1, in plain,
// STARTTLS (RFC 3207) or implicit TLS mode with a self-signed certificate
// generated at start. Its XOAUTH2 mechanism behaves like Gmail's and
// Dovecot's: a bad token gets the base64 JSON error challenge, the client
// answers with an empty line, and only then comes "535 5.7.8". It can also
// refuse long AUTH command lines as Dovecot and Gmail do, and it keeps
// every delivered message in memory, byte for byte.
//
// Nothing here is meant for production: certificates are throwaway and
// messages live in memory.
package smtptest

// Package saslmech holds the SASL pieces that github.com/emersion/go-sasl
// lacks, behind its Client and Server interfaces: the XOAUTH2 and
// OAUTHBEARER (RFC 7628) clients that log in upstream, each answering the
// provider's JSON error challenge the way its mechanism requires; the
// LOGIN server that old clients still use; and the server-side dialogue
// shared by the IMAP, POP3 and SMTP front ends to collect a user name and
// password with PLAIN or LOGIN.
package saslmech

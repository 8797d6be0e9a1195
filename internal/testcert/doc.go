// Package testcert makes throwaway self-signed TLS certificates for tests
// and the fake mail servers tests run (imaptest, smtptest, the front ends'
// own tests), so that every test TLS endpoint is built one way.
//
// A certificate names exactly the hosts it is asked for (RFC 5280 subject
// alternative names: IP addresses as iPAddress, the rest as dNSName), is
// valid from an hour ago for a day, and is its own CA, so the returned pool
// (or the certificate written out as PEM) is all a client needs to verify
// it. Keys are ECDSA P-256. Nothing is written to disk; the production
// certificate that the proxy keeps in its state directory is made by
// package listener instead, with a longer life and files that survive a
// restart.
package testcert

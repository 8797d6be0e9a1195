// Package proxy holds what every protocol front end shares: the listener
// and its limits, the per-connection Session (identity, outcome and byte
// counts that end up in one summary log line), and the Relay that copies
// bytes between client and upstream after login.
//
// The front ends live in sub-packages (imapfront, pop3front, smtpfront);
// they speak only the pre-authentication part of their protocol, obtain a
// grant through package login, log in upstream, and then hand both
// connections to Relay. After that the proxy never parses a byte, so any
// protocol extension the upstream offers works through it.
package proxy

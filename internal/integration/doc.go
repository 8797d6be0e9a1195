// Package integration proves oauthbridge against real servers and real
// clients: Dex (an OpenID Connect provider, RFC 6749/8628, OIDC Core) issues
// the tokens, a private Dovecot instance (IMAP RFC 9051/3501, POP3 RFC 1939,
// submission RFC 6409) accepts only XOAUTH2/OAUTHBEARER (RFC 7628) and checks
// every token at Dex, and Python imaplib, curl, fetchmail and mbsync log in
// through the proxy with plain passwords.
//
// Everything lives behind the build tag "integration": run it with
//
//	go test -tags integration -race -count=1 -v ./internal/integration/ -timeout 20m
//
// after .ci/install-deps (Debian packages) and .ci/build-dex (the Dex binary,
// cached outside the repository). Where Dex or Dovecot is missing the suite
// skips with a message saying what to run, unless
// OAUTHBRIDGE_REQUIRE_INTEGRATION=1, in which case it fails: CI sets that so
// a broken install can never pass as a silent skip.
//
// Invariants: every server binds 127.0.0.1 on a free high port, keeps its
// state in a temporary directory, and runs as a child process that is
// stopped by its own pid when the suite ends (and dies with the test binary
// through Pdeathsig if the suite is killed). Nothing touches the system
// Dovecot's configuration, ports or state.
package integration

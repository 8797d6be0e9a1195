// Package bench measures oauthbridge against its references: relay
// throughput and CPU against a direct FETCH and the bare TLS work, login
// latency against a direct XOAUTH2 login, the cost of idle IDLE
// sessions, refresh storms and cold logins. cmd/bridgebench drives it and
// BENCHMARKS.md records its results.
//
// Everything runs on 127.0.0.1 with TLS on every leg: the test IdP
// (internal/testidp, HTTPS) and the XOAUTH2-only IMAP server
// (imapfront/imaptest) run in the calling process; oauthbridge runs as
// the real binary in a child process (Proxy), so that its CPU time
// (/proc/PID/stat), resident memory (/proc/PID/status) and goroutines
// (its OAUTHBRIDGE_DEBUG_ADDR profile listener) are its own. Stack
// assembles the same parts in-process for Go benchmarks.
//
// Invariants:
//   - Each figure is measured beside its reference in the same run, and
//     where load from other processes could skew one side, the two are
//     measured in alternating blocks.
//   - CPU references (TLS work, plain relay) are timed with the thread's
//     own CPU clock, not wall time, so a busy machine does not inflate
//     them.
//   - Passwords and the IdP's client secret never reach a file: the
//     secret goes to the child through its environment.
package bench

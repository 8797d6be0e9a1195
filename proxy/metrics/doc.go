// Package metrics exposes the proxy's Prometheus metrics: connections by
// listener and protocol, login attempts by protocol and result, upstream
// login latency, token refreshes by provider and result with their
// latency, relayed bytes each way, accounts by state, and configuration
// reloads. See Names for the full list and docs/operating.md for their
// meaning.
//
// It gathers them through small hooks rather than by parsing logs: Wrap
// around each front end's proxy.Handler (connections, bytes), the front
// ends' observer calls LoginDone and UpstreamDone, the token broker's
// observer calls RefreshDone, and an accounts collector lists the token
// store (cached) when Prometheus scrapes.
//
// Invariants: every label has a small, fixed set of values (listener and
// provider names come from the configuration; results are mapped onto
// fixed lists, anything unforeseen becomes "error" or "other"); no
// account name, address or secret ever becomes a label. Relayed bytes
// are read from the sessions' live counters at scrape time, so a session
// that stays open for days is counted while it runs, and a session's
// bytes move from "live" to "closed" under one lock, so the counter never
// goes backwards.
package metrics

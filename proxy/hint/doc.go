// Package hint recognises what mail providers say when they refuse or
// limit a login for a reason the end user cannot fix but an administrator
// can, and says what to do about it.
//
// The front ends pass such texts to the client verbatim (Microsoft's
// "Request is throttled. Suggested Backoff Time: N milliseconds" tells a
// client how long to wait); this package only adds a hint for the log and
// for `oauthbridge doctor`, so the person on call does not have to know
// every provider's wording.
//
// Invariants: matching is a case-insensitive substring search over a
// small fixed table, so it costs little, never fails and never panics on
// any input; a Hint's text is constant and never repeats the input, which
// may hold anything an upstream chose to send.
package hint

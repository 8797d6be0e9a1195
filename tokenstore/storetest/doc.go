// Package storetest is the conformance suite every tokenstore.Store
// backend runs, so that the broker can rely on one set of semantics
// whichever backend an operator picks.
//
// A backend's test calls Run with a function that opens a new, empty
// store (and closes it with t.Cleanup). To check that several processes
// sharing one store never lose a write, open two instances on the same
// storage and pass Pair(a, b): the suite's calls then alternate between
// them.
//
// Semantics the suite pins, beyond the Store interface's comments:
//   - The store owns Version: the first Put of an account gives 1 and
//     every later write (Put or Update) adds exactly 1, whatever Version
//     the caller's record carries. The store sets Updated on every write.
//   - Records are copies: changing a record passed to Put, returned by Get
//     or List, or handed to an Update callback never changes the store.
//   - Update of a missing account returns ErrNotFound without calling fn;
//     fn's ErrNoChange or error discards fn's changes; fn may not change
//     Account (Update fails).
//   - A cancelled context makes every method fail without side effects.
//   - Times survive with microsecond precision (PostgreSQL's).
package storetest

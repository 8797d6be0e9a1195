// Package tokenstore defines what oauthbridge keeps about each account and
// how it is kept secret: the Record, the Store interface that every backend
// implements, and the sealing of OAuth tokens under a key derived from the
// account's local password.
//
// Invariants every backend and caller keep:
//   - A refresh token is never stored in clear text. It is sealed with an
//     AEAD under a key derived with Argon2id from the user's local password,
//     with a per-record salt; whoever copies the store without the passwords
//     gets nothing usable.
//   - The local password itself is never stored, not even as a hash: a
//     successful Open is the proof that the password was right.
//   - Store.Update is the one place where a record is read, changed and
//     written back atomically. The token refresh path (package broker) runs
//     inside it, so that concurrent refreshes of one account, in one process
//     or across replicas sharing a store, collapse into one.
package tokenstore

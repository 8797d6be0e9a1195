// Package filestore is the embedded default token store: every record in
// one JSON file (by default tokens.json in the state directory).
//
// Invariants:
//   - Crash safety: the file is replaced atomically (a temporary file in
//     the same directory is written, fsynced and renamed over the old one,
//     then the directory is fsynced). A crash leaves the old or the new
//     file, never a torn one; stray temporary files are removed at Open.
//   - Privacy: the file and its lock files are created 0600, directories
//     0700. Only sealed grants are stored (see package tokenstore).
//   - A damaged file is an error naming the file (ErrCorrupt), never an
//     empty store and never a panic.
//   - Cross-process safety (Linux, macOS, BSD): Update holds an exclusive
//     flock on a per-account lock file (in <file>.locks/) from its read to
//     its write, so concurrent Updates of one account, in this or any other
//     process sharing the file, run one after the other; this is what makes
//     token refreshes collapse across processes. Every write also holds an
//     flock on <file>.lock and re-reads the file inside it, so writes to
//     different accounts by different processes never overwrite each other.
//     On other systems the locks are in-process only: one process per file.
//   - Readers never take a file lock: they see the old or the new file.
//     A process notices another's write by the file's identity, size and
//     modification time; it keeps the file it last read open, so the
//     identity (inode) cannot be reused by a later file.
//
// Update's fn runs with only its account locked, so a slow identity
// provider delays logins of that account alone.
package filestore

// Package pgtickets keeps the consent site's tickets (package consent) in
// PostgreSQL, beside the shared token store (tokenstore/postgres), so that
// oauthbridge replicas behind one public URL serve one consent: a link
// handed out by replica A in a refused login opens, and completes, on
// replica B, and the forms of a page served by one replica are accepted by
// every other.
//
// Invariants:
//   - A ticket completes at most once, whichever replica serves it: Update
//     holds the ticket's row lock (SELECT ... FOR UPDATE) from its read to
//     its write, so consent's stage checks (claim: only one answer moves a
//     ticket to "saving"; the result page: only one view moves it to
//     "closed") run on the latest state; the result page then deletes it.
//   - Tickets expire: every read compares expires with the database's
//     clock, and expired rows are deleted at the next Add and at most a
//     minute later by Newest.
//   - Bounds (consent.TicketLimits) hold across replicas: Add runs under a
//     transaction-scoped advisory lock and evicts as MemoryTickets does.
//   - At rest a ticket is one AES-256-GCM blob (id, the key derived from the
//     login password, the attempt's PKCE verifier, state and nonce, and the
//     generated password until it was shown), bound to its row. The row is
//     keyed by SHA-256 of the ticket id, so the table holds no usable link.
//     Account, times and a busy flag are in the clear, for the bounds.
//
// Keys and what a database reader gets: the sealing key and the consent
// site's form key are derived (HKDF-SHA256) from a random site secret that
// the first replica stores in oauthbridge_consent_secret, mixed with
// Options.Secret when one is configured. Without Options.Secret the
// sealing protects a copy of the tickets table alone, not a copy of the
// whole database: whoever reads every table while a consent is open can
// open its ticket. A ticket started by a login whose password becomes the
// local password carries the key derived from that password (from the
// refused login until the grant is saved, 15 minutes at most); that key
// opens the account's sealed grant, then and after every later refresh,
// until the user's password changes. With require_generated_password (the
// default off loopback, so the usual replica set-up) tickets carry no key,
// and the generated password sits in its ticket only between the save
// and the result page (10 minutes at most). Options.Secret, kept outside
// the database, closes that gap.
//
// Device-flow polling runs in the replica where the user chose it; the
// page may be served by any replica (it shows the shared ticket), but if
// that replica stops, its poll ends: a graceful stop sets the ticket back
// to the choice with a notice, a crash leaves it showing the code until
// the user chooses "start over" or the ticket expires.
package pgtickets

// Package consent is oauthbridge's consent site: the small web application
// where a user authorises oauthbridge, once, to reach their mailbox with
// OAuth 2.0, and where they come back after a forgotten password or for a
// new device.
//
// A login without a usable grant calls Service.StartConsent (it implements
// login.ConsentStarter), which opens a ticket and returns the link that
// the front end puts into its refusal (IMAP NO [ALERT], POP3 -ERR, SMTP
// 535). The link opens a page that offers the flows that apply to the
// provider, all implemented once in package oauthflow:
//
//   - authorization code with PKCE (RFC 6749 4.1, RFC 7636), redirecting
//     to PublicURL + "/oauth/callback";
//   - device authorization (RFC 8628): the page shows the code and the
//     provider's link, a goroutine polls with a deadline, and the page
//     refreshes itself (meta refresh, no script) until it is done;
//   - paste-back (RFC 8252 7.3): the provider redirects to a loopback
//     address nothing listens on, and the user pastes that address.
//
// After the provider answers, the identity it reports (a verified ID
// token, or userinfo) must be the account or one of its configured
// aliases; otherwise the token is dropped and the page says why. Only then
// is the grant sealed and stored (Broker.SaveSealed), replacing any
// previous record of the account.
//
// Invariants:
//   - A ticket is 256 random bits, single-use, expires (TicketTTL, 15 min
//     by default), is bound to one account and provider, and is the only
//     secret that ever appears in a URL. The number of tickets is bounded
//     per account and in total.
//   - A ticket holds the Argon2id parameters and the key derived from the
//     password typed at the login that started consent, never the
//     password. With RequireGeneratedPassword (or an empty login password)
//     it holds no key: a strong password is generated at success, shown
//     once, and the grant is sealed under it.
//   - state (compared in constant time), PKCE and nonce are checked; the
//     callback is bound to the browser that started the flow by a cookie;
//     every form carries a CSRF token derived from its ticket (or, on the
//     start page, from a cookie) with a key of the process (or, for
//     replicas, one they share: Config.FormKey).
//   - Replicas behind one public URL share a TicketStore (package
//     pgtickets): any replica serves any page of a ticket. A device-flow
//     poll runs in the replica that started it; when that replica stops,
//     the ticket goes back to the choice with a notice.
//   - Every response carries a restrictive Content-Security-Policy (no
//     script at all), frame-ancestors 'none', Referrer-Policy no-referrer,
//     Cache-Control no-store and nosniff. No page shows a token; no log
//     line holds a token, a code, a state, a password or a whole ticket
//     (tickets are logged as a short hash).
package consent

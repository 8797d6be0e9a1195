// Package oauthflow is the one implementation of the OAuth 2.0 flows with
// which a user grants oauthbridge access to their mailbox, shared by the
// consent web page (package consent) and the terminal command
// `oauthbridge authorize`:
//
//   - the authorization code grant (RFC 6749 section 4.1) with PKCE S256
//     (RFC 7636), a state bound to the attempt (RFC 6749 section 10.12)
//     and an OpenID Connect nonce;
//   - the device authorization grant (RFC 8628), polled at the interval
//     the provider asks for;
//   - paste-back: parsing the redirect address a user copied from their
//     browser's address bar when the redirect URI is a loopback address
//     nothing listens on (RFC 8252 section 7.3), with the state checked;
//   - identity: who signed in, from the ID token verified with the
//     issuer's keys (OpenID Connect Core 1.0 section 3.1.3.7) or, without
//     an ID token, from the userinfo endpoint (section 5.3).
//
// Invariants: every call to the identity provider carries a deadline (the
// caller's context and the HTTP client's timeout); no error text ever
// contains a token, a code, a PKCE verifier or a client secret (provider
// errors are reduced to their error code and description); a pasted
// address yields a code only when its state equals the attempt's.
package oauthflow

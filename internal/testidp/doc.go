// Package testidp is an in-process OAuth 2.0 identity provider for tests.
//
// It serves the token endpoint of RFC 6749 (grant types refresh_token and
// authorization_code, the latter with PKCE S256 per RFC 7636), the device
// authorization grant of RFC 8628, a userinfo endpoint and a minimal
// discovery document, on an httptest server bound to 127.0.0.1. Tests of
// the token broker use it as "the identity provider"; fake IMAP, POP3 and
// SMTP servers use Validate to check the access tokens a proxy presents.
//
// Behaviour a test can rely on:
//   - Refresh tokens rotate on every refresh (as Dex does); the old one is
//     invalid at once unless SetRefreshPolicy gives it a grace period.
//     SetRefreshPolicy(false, ...) makes refresh answers omit refresh_token,
//     as Google does.
//   - Revoke(email) invalidates every refresh and access token of the user:
//     refreshing then answers invalid_grant.
//   - SetFailure makes every endpoint answer with a fixed status and body,
//     to simulate an outage or a malformed reply.
//   - Counters (TokenRequests, RefreshRequests) count requests as received,
//     failed ones included, so tests can assert how often the IdP was asked.
//   - Tokens are random opaque strings, never derived from the user, so a
//     test can search logs for them.
//
// There are no ID tokens yet: identity comes from /userinfo or Validate.
package testidp

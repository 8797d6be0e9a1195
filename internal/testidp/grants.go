package testidp

import (
	"time"

	"golang.org/x/oauth2"
)

// Issue mints a refresh and an access token for email as if the user had
// just consented, without any HTTP request.
func (idp *IdP) Issue(email string) *oauth2.Token {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return idp.mintLocked(email, ClientID, true)
}

// mintLocked issues an access token and, when withRefresh, a new refresh
// token that becomes the user's latest.
func (idp *IdP) mintLocked(email, clientID string, withRefresh bool) *oauth2.Token {
	at := "at-" + randomString(16)
	expiry := time.Now().Add(idp.accessTTL)
	idp.access[at] = &accessGrant{email: email, expiry: expiry}
	tok := &oauth2.Token{AccessToken: at, TokenType: "Bearer", Expiry: expiry}
	idp.issued = append(idp.issued, at)
	if withRefresh {
		rt := "rt-" + randomString(16)
		idp.refresh[rt] = &refreshGrant{email: email, clientID: clientID}
		idp.latest[email] = rt
		idp.issued = append(idp.issued, rt)
		tok.RefreshToken = rt
	}
	return tok
}

// Validate reports the email an access token was issued to, and whether
// it is still valid (known, not expired, not revoked). Fake mail servers
// call it to check XOAUTH2 and OAUTHBEARER logins.
func (idp *IdP) Validate(accessToken string) (email string, ok bool) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	g := idp.access[accessToken]
	if g == nil || !time.Now().Before(g.expiry) {
		return "", false
	}
	return g.email, true
}

// LatestRefreshToken returns the newest refresh token issued to email, or
// "" if none is valid (never issued, or revoked).
func (idp *IdP) LatestRefreshToken(email string) string {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return idp.latest[email]
}

// Revoke invalidates all refresh and access tokens of email: a refresh
// then answers invalid_grant and Validate fails.
func (idp *IdP) Revoke(email string) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	for rt, g := range idp.refresh {
		if g.email == email {
			delete(idp.refresh, rt)
		}
	}
	for at, g := range idp.access {
		if g.email == email {
			delete(idp.access, at)
		}
	}
	delete(idp.latest, email)
}

// Expire makes all of email's access tokens expired now, as if their
// lifetime had passed; refresh tokens stay valid. The client still
// believes its tokens valid, which is how an upstream rejection looks.
func (idp *IdP) Expire(email string) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	past := time.Now().Add(-time.Second)
	for _, g := range idp.access {
		if g.email == email {
			g.expiry = past
		}
	}
}

// useRefreshLocked checks a refresh token and rotates it per policy. It
// returns the new token set, or ok=false for an unknown, revoked, expired
// or foreign token (invalid_grant).
func (idp *IdP) useRefreshLocked(rt, clientID string) (*oauth2.Token, bool) {
	g := idp.refresh[rt]
	now := time.Now()
	if g == nil || g.clientID != clientID || (!g.deadline.IsZero() && !now.Before(g.deadline)) {
		return nil, false
	}
	if !idp.rotate {
		return idp.mintLocked(g.email, clientID, false), true
	}
	switch {
	case idp.grace == 0:
		delete(idp.refresh, rt)
	case idp.grace > 0 && g.deadline.IsZero():
		g.deadline = now.Add(idp.grace)
	}
	return idp.mintLocked(g.email, clientID, true), true
}

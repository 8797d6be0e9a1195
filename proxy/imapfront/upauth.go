package imapfront

import (
	"encoding/base64"
	"strings"

	"github.com/emersion/go-sasl"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/saslmech"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// maxContinuations bounds the challenges of one AUTHENTICATE: a token
// mechanism needs at most two (the empty one without SASL-IR, then the
// error challenge).
const maxContinuations = 3

// authenticate logs in with the grant's token.
func (u *upConn) authenticate(g *login.Grant) error {
	mech := newTokenMech(g)
	name, ir, _ := mech.Start()
	tag := u.nextTag()
	line := tag + " AUTHENTICATE " + name
	if hasCap(u.caps, "SASL-IR") {
		line += " " + base64.StdEncoding.EncodeToString(ir)
	}
	u.caps = nil // the capabilities after login are the ones that matter
	if err := u.writeLine(line); err != nil {
		return err
	}
	for i := 0; ; i++ {
		r, err := u.await(tag)
		if err != nil {
			return err
		}
		if r.tag != "+" {
			return u.authDone(r, mech)
		}
		if i == maxContinuations {
			return u.fail(upstream.ErrProtocol, "too many AUTHENTICATE challenges")
		}
		if err := u.answer(r.text, mech); err != nil {
			return err
		}
	}
}

// answer responds to one continuation request.
func (u *upConn) answer(text string, mech tokenMech) error {
	challenge, err := base64.StdEncoding.DecodeString(text)
	var resp []byte
	if err == nil {
		resp, err = mech.Next(challenge)
	}
	if err != nil {
		// Cancel, so the server ends the command; its answer is moot.
		u.writeLine("*")
		return u.fail(upstream.ErrProtocol, "undecodable AUTHENTICATE challenge")
	}
	return u.writeLine(base64.StdEncoding.EncodeToString(resp))
}

// authDone maps the completion of AUTHENTICATE.
func (u *upConn) authDone(r response, mech tokenMech) error {
	if caps, ok := r.capabilities(); ok {
		u.caps = caps
	}
	switch r.kind {
	case "OK":
		return nil
	case "NO":
		e := &UpstreamError{Err: noKind(r), Addr: u.ep.Addr, Text: r.text, Scope: mech.scope()}
		return e
	}
	return u.fail(upstream.ErrProtocol, "AUTHENTICATE failed: "+r.text)
}

// noKind decides what a NO to AUTHENTICATE means. Servers differ: Dovecot
// and Gmail say [AUTHENTICATIONFAILED], Microsoft 365 says a bare
// "AUTHENTICATE failed." for a bad token, so a NO without a temporary
// code counts as a refused token (the caller retries once with a fresh
// one). Microsoft's throttling reply also comes without a code.
func noKind(r response) error {
	switch r.code {
	case "UNAVAILABLE", "SERVERBUG", "LIMIT", "INUSE", "OVERQUOTA":
		return upstream.ErrUnavailable
	case "CANNOT", "CLIENTBUG", "PRIVACYREQUIRED", "NOPERM":
		return upstream.ErrProtocol
	}
	if r.code == "" && strings.Contains(strings.ToLower(r.text), "throttl") {
		return upstream.ErrUnavailable
	}
	return upstream.ErrRejected
}

// await reads until the completion of tag or a continuation request,
// keeping capabilities from untagged data and skipping the rest.
func (u *upConn) await(tag string) (response, error) {
	for {
		line, err := u.lines.ReadLine()
		if err != nil {
			return response{}, err
		}
		r := parseResponse(line)
		if r.tag == tag || r.tag == "+" {
			return r, nil
		}
		if r.tag != "*" {
			return r, u.fail(upstream.ErrProtocol, "response with unknown tag")
		}
		if err := u.untagged(r, line); err != nil {
			return r, err
		}
	}
}

// untagged takes what the login needs from untagged data.
func (u *upConn) untagged(r response, line []byte) error {
	if caps, ok := r.capabilities(); ok {
		u.caps = caps
	}
	if r.kind == "BYE" {
		u.bye = r.text
	}
	return u.skipLiteral(line)
}

// skipLiteral drops a literal that ends an untagged line, and the rest of
// that response, so the dialogue stays in step.
func (u *upConn) skipLiteral(line []byte) error {
	for {
		n, _, ok, err := trailingLiteral(line)
		if err != nil || n > maxUpstreamLine {
			return u.fail(upstream.ErrProtocol, "bad literal in response")
		}
		if !ok {
			return nil
		}
		if _, err := u.br.Discard(int(n)); err != nil {
			return err
		}
		if line, err = u.lines.ReadLine(); err != nil {
			return err
		}
	}
}

// tokenMech is a SASL client for a bearer token that remembers what the
// server's error challenge said.
type tokenMech interface {
	sasl.Client
	scope() string
}

func newTokenMech(g *login.Grant) tokenMech {
	if strings.EqualFold(g.Mechanism, sasl.OAuthBearer) {
		return oauthBearer{saslmech.NewOAuthBearerClient(g.UpstreamUser, g.AccessToken, g.Upstream.Addr)}
	}
	return xoauth2{saslmech.NewXOAuth2Client(g.UpstreamUser, g.AccessToken)}
}

type xoauth2 struct{ *saslmech.XOAuth2Client }

func (x xoauth2) scope() string {
	if x.Failure == nil {
		return ""
	}
	return x.Failure.Scope
}

// oauthBearer reports the scope of OAUTHBEARER's error challenge, like
// xoauth2 does for XOAUTH2's.
type oauthBearer struct{ *saslmech.OAuthBearerClient }

func (o oauthBearer) scope() string {
	if o.Failure == nil {
		return ""
	}
	return o.Failure.Scope
}

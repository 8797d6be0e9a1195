package smtpfront

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/saslmech"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// maxAuthLine is the longest "AUTH mech initial-response" line sent.
// Dovecot's and Gmail's submission servers refuse command lines over about
// 1 KiB ("500 5.5.2 Line too long") although they take long SASL response
// lines, so a longer initial response goes in a line of its own after an
// empty "334 " challenge (RFC 4954 section 4).
const maxAuthLine = 500

// maxAuthRounds bounds the challenges one AUTH may bring: the empty one
// of the two-step form, and the JSON error of a refused token.
const maxAuthRounds = 4

// auth logs in with the grant's access token.
func (u *upConn) auth(g *login.Grant) error {
	cl, err := saslClient(g)
	if err != nil {
		return err
	}
	mech, ir, err := cl.Start()
	if err != nil {
		return fmt.Errorf("upstream auth: %w: %v", upstream.ErrProtocol, err)
	}
	line, pending := authCommand(mech, ir)
	if err := u.write("auth", line); err != nil {
		return err
	}
	for range maxAuthRounds {
		r, err := u.read("auth")
		if err != nil {
			return err
		}
		switch r.code {
		case 235:
			return nil
		case 334:
			if err := u.answer(cl, &pending, r); err != nil {
				return err
			}
		default:
			return withFailure(unexpected("auth", r), cl)
		}
	}
	return fmt.Errorf("upstream auth: %w: too many challenges", upstream.ErrProtocol)
}

// authCommand is the AUTH line, with the initial response on it when the
// line stays short; otherwise the initial response is returned as pending,
// to be sent after the server's empty challenge.
func authCommand(mech string, ir []byte) (line string, pending []byte) {
	line = "AUTH " + mech
	enc := base64.StdEncoding.EncodeToString(ir)
	if enc == "" {
		enc = "=" // RFC 4954: an empty initial response
	}
	if len(line)+1+len(enc) > maxAuthLine {
		return line, ir
	}
	return line + " " + enc, nil
}

// answer responds to one 334 challenge: the pending initial response to
// the empty challenge, else whatever the mechanism says (for a JSON error
// challenge, the empty or %x01 response that lets the server finish).
func (u *upConn) answer(cl sasl.Client, pending *[]byte, r reply) error {
	text := strings.TrimSpace(strings.Join(r.lines, ""))
	var resp []byte
	if *pending != nil && text == "" {
		resp, *pending = *pending, nil
	} else {
		challenge, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return fmt.Errorf("upstream auth: %w: challenge is not base64", upstream.ErrProtocol)
		}
		if resp, err = cl.Next(challenge); err != nil {
			return fmt.Errorf("upstream auth: %w: %v", upstream.ErrProtocol, err)
		}
	}
	return u.write("auth", base64.StdEncoding.EncodeToString(resp))
}

// saslClient is the client for the grant's mechanism (XOAUTH2 unless the
// grant says OAUTHBEARER).
func saslClient(g *login.Grant) (sasl.Client, error) {
	user := g.UpstreamUser
	if user == "" {
		user = g.Account
	}
	switch strings.ToUpper(g.Mechanism) {
	case "", saslmech.XOAuth2:
		return saslmech.NewXOAuth2Client(user, g.AccessToken), nil
	case sasl.OAuthBearer:
		return saslmech.NewOAuthBearerClient(user, g.AccessToken, g.Upstream.Addr), nil
	}
	return nil, fmt.Errorf("upstream auth: %w: unsupported mechanism %q", upstream.ErrProtocol, g.Mechanism)
}

// withFailure adds the XOAUTH2 error challenge's status and scope (never
// secret) to err for the log.
func withFailure(err error, cl sasl.Client) error {
	if x, ok := cl.(*saslmech.XOAuth2Client); ok && x.Failure != nil {
		return fmt.Errorf("%w (%v)", err, x.Failure)
	}
	return err
}

package smtptest

import (
	"bytes"
	"errors"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// ErrMalformed is returned (as a 501 reply) for an XOAUTH2 response that
// is not "user=...^Aauth=Bearer ...^A^A".
var ErrMalformed = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 2},
	Message: "Malformed XOAUTH2 response"}

// XOAuth2Error is the challenge sent for a refused token, as Gmail does.
const XOAuth2Error = `{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`

// XOAuth2Server is the server side of XOAUTH2 as a go-sasl Server.
type XOAuth2Server struct {
	// Validate returns the user an access token belongs to, and whether
	// the token is valid at all.
	Validate func(token string) (user string, ok bool)
	// Success is called with the user once a login succeeds.
	Success func(user string)

	asked  bool // sent the empty challenge for a missing initial response
	failed bool // sent the error challenge; expecting the empty response
	done   bool
}

var _ sasl.Server = (*XOAuth2Server)(nil)

// Next implements sasl.Server. A refused token yields the JSON error
// challenge; the client's (empty) answer to it then ends the exchange
// with 535 5.7.8.
func (s *XOAuth2Server) Next(response []byte) ([]byte, bool, error) {
	switch {
	case s.done:
		return nil, true, sasl.ErrUnexpectedClientResponse
	case s.failed:
		s.done = true
		return nil, true, smtp.ErrAuthFailed
	case response == nil && !s.asked:
		s.asked = true
		return []byte{}, false, nil
	}
	user, token, err := parseXOAuth2(response)
	if err != nil {
		s.done = true
		return nil, true, ErrMalformed
	}
	if owner, ok := s.Validate(token); !ok || owner != user {
		s.failed = true
		return []byte(XOAuth2Error), false, nil
	}
	s.done = true
	if s.Success != nil {
		s.Success(user)
	}
	return nil, true, nil
}

// parseXOAuth2 splits "user=U\x01auth=Bearer T\x01\x01".
func parseXOAuth2(b []byte) (user, token string, err error) {
	rest, ok := bytes.CutSuffix(b, []byte("\x01\x01"))
	if !ok {
		return "", "", errors.New("missing terminator")
	}
	for _, field := range bytes.Split(rest, []byte{1}) {
		k, v, _ := bytes.Cut(field, []byte{'='})
		switch string(k) {
		case "user":
			user = string(v)
		case "auth":
			t, ok := bytes.CutPrefix(v, []byte("Bearer "))
			if !ok {
				return "", "", errors.New("not a bearer token")
			}
			token = string(t)
		}
	}
	if user == "" || token == "" {
		return "", "", errors.New("user or token missing")
	}
	return user, token, nil
}

// bearerServer is go-sasl's OAUTHBEARER server with Validate, ending a
// refused login with 535 5.7.8 as real servers do (go-sasl's own error
// would become a temporary 454).
type bearerServer struct {
	inner      sasl.Server
	challenged bool
}

func newBearerServer(validate func(string) (string, bool), success func(string)) *bearerServer {
	return &bearerServer{inner: sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
		if owner, ok := validate(o.Token); !ok || owner != o.Username {
			return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
		}
		success(o.Username)
		return nil
	})}
}

// Next implements sasl.Server.
func (b *bearerServer) Next(response []byte) ([]byte, bool, error) {
	if b.challenged {
		return nil, true, smtp.ErrAuthFailed
	}
	challenge, done, err := b.inner.Next(response)
	if err != nil {
		return nil, true, ErrMalformed
	}
	b.challenged = !done && len(challenge) > 0
	return challenge, done, nil
}

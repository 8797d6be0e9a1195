package imaptest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
)

// session is one connection: not authenticated until XOAUTH2 succeeds,
// then a memserver user session.
type session struct {
	*imapmemserver.UserSession // nil until authenticated
	srv                        *Server
}

var _ imapserver.SessionSASL = (*session)(nil)

func (s *session) Close() error {
	if s.UserSession == nil {
		return nil
	}
	return s.UserSession.Close()
}

// Login refuses passwords, as an OAuth-only provider does.
func (s *session) Login(username, password string) error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed,
		Text: "Password logins are disabled, use XOAUTH2"}
}

func (s *session) AuthenticateMechanisms() []string { return []string{"XOAUTH2"} }

func (s *session) Authenticate(mech string) (sasl.Server, error) {
	if mech != "XOAUTH2" {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot,
			Text: "Unsupported mechanism"}
	}
	return &xoauth2Server{sess: s}, nil
}

// xoauth2Server is the server side of XOAUTH2 with the error challenge.
type xoauth2Server struct {
	sess    *session
	refused bool
}

var errAuthFailed = &imap.Error{Type: imap.StatusResponseTypeNo,
	Code: imap.ResponseCodeAuthenticationFailed, Text: "Authentication failed."}

func (x *xoauth2Server) Next(response []byte) ([]byte, bool, error) {
	switch {
	case x.refused:
		// The client's answer to the error challenge, expected empty.
		return nil, true, errAuthFailed
	case response == nil:
		// No SASL-IR: ask for the credentials with an empty challenge.
		return []byte{}, false, nil
	}
	user, token, ok := parseXOAuth2(response)
	if !ok {
		return nil, true, &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Malformed XOAUTH2 response"}
	}
	if err := x.sess.login(user, token); err != nil {
		x.refused = true
		x.sess.srv.refusals.Add(1)
		return x.sess.srv.errorChallenge(), false, nil
	}
	return nil, true, nil
}

// login checks the token and opens the user's mailboxes.
func (s *session) login(user, token string) error {
	email, ok := s.srv.opts.Validate(token)
	if !ok || !strings.EqualFold(email, user) {
		return errors.New("token refused")
	}
	u := s.srv.user(user)
	if u == nil {
		return errors.New("no such user")
	}
	s.UserSession = imapmemserver.NewUserSession(u)
	s.srv.logins.Add(1)
	return nil
}

func (s *Server) errorChallenge() []byte {
	b, _ := json.Marshal(map[string]string{"status": "401", "schemes": "bearer", "scope": s.opts.Scope})
	return b
}

// parseXOAuth2 splits "user=U^Aauth=Bearer T^A^A".
func parseXOAuth2(b []byte) (user, token string, ok bool) {
	rest, found := bytes.CutSuffix(b, []byte("\x01\x01"))
	if !found {
		return "", "", false
	}
	for _, kv := range strings.Split(string(rest), "\x01") {
		k, v, _ := strings.Cut(kv, "=")
		switch strings.ToLower(k) {
		case "user":
			user = v
		case "auth":
			token, ok = strings.CutPrefix(v, "Bearer ")
		}
	}
	return user, token, ok && user != ""
}

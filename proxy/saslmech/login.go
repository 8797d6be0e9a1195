package saslmech

import (
	"github.com/emersion/go-sasl"
)

// Login is the mechanism name of the obsolete but widely used LOGIN
// mechanism (draft-murchison-sasl-login).
const Login = "LOGIN"

// LoginAuthenticator receives the credentials collected by a LOGIN server.
type LoginAuthenticator func(username, password string) error

type loginServer struct {
	auth     LoginAuthenticator
	step     int
	username string
}

// NewLoginServer returns a sasl.Server for LOGIN: it asks "Username:",
// then "Password:". An initial response, if present, is the user name.
func NewLoginServer(auth LoginAuthenticator) sasl.Server {
	return &loginServer{auth: auth}
}

func (s *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch s.step {
	case 0:
		s.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		s.username = string(response)
		s.step = 2
		return []byte("Password:"), false, nil
	case 2:
		s.step = 3
		return nil, true, s.auth(s.username, string(response))
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}

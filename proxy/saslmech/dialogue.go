package saslmech

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
)

// Sentinel errors of the server-side dialogue.
var (
	// ErrCanceled: the client answered a challenge with "*".
	ErrCanceled = errors.New("authentication canceled")
	// ErrBadBase64: the client's response was not valid base64.
	ErrBadBase64 = errors.New("invalid base64 in authentication data")
	// ErrUnsupported: the client asked for a mechanism the proxy does not offer.
	ErrUnsupported = errors.New("unsupported authentication mechanism")
	// ErrBadAuthzid: PLAIN carried an authorisation identity that differs
	// from the user name; the proxy cannot act as another user.
	ErrBadAuthzid = errors.New("authorization identity must be empty or equal the user name")
	// ErrMalformed: the mechanism's data did not parse.
	ErrMalformed = errors.New("malformed authentication data")
)

// Credentials are what a password mechanism collected.
type Credentials struct {
	Username string
	Password string
}

// Mechanisms are the password mechanisms front ends offer, in order of
// preference.
var Mechanisms = []string{sasl.Plain, Login}

// Exchange is one protocol's framing of the SASL dialogue: how a
// challenge is sent, and how the client's next response line is read.
type Exchange interface {
	// Challenge sends a base64-encoded challenge ("+ x", "334 x").
	Challenge(encoded string) error
	// Response reads the client's next line, without line ending.
	Response() (string, error)
}

// Collect runs PLAIN or LOGIN (mech is matched case-insensitively) with
// an optional initial response already decoded from the command line
// (nil when absent, empty for "="), and returns the credentials the client
// sent. It never checks them: that is the Authenticator's job.
func Collect(mech string, ir []byte, ex Exchange) (*Credentials, error) {
	var creds Credentials
	var srv sasl.Server
	switch strings.ToUpper(mech) {
	case sasl.Plain:
		srv = sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return ErrBadAuthzid
			}
			creds = Credentials{Username: username, Password: password}
			return nil
		})
	case Login:
		srv = NewLoginServer(func(username, password string) error {
			creds = Credentials{Username: username, Password: password}
			return nil
		})
	default:
		return nil, ErrUnsupported
	}
	if err := run(srv, ir, ex); err != nil {
		return nil, err
	}
	return &creds, nil
}

func run(srv sasl.Server, response []byte, ex Exchange) error {
	for {
		challenge, done, err := srv.Next(response)
		if err != nil {
			if errors.Is(err, ErrBadAuthzid) {
				return err
			}
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if done {
			return nil
		}
		if err := ex.Challenge(base64.StdEncoding.EncodeToString(challenge)); err != nil {
			return err
		}
		line, err := ex.Response()
		if err != nil {
			return err
		}
		if response, err = DecodeResponse(line); err != nil {
			return err
		}
	}
}

// DecodeResponse decodes a client's base64 response line; "*" cancels and
// "=" (as an initial response) is the empty response.
func DecodeResponse(line string) ([]byte, error) {
	switch line {
	case "*":
		return nil, ErrCanceled
	case "=":
		return []byte{}, nil
	}
	b, err := base64.StdEncoding.DecodeString(line)
	if err != nil {
		return nil, ErrBadBase64
	}
	return b, nil
}

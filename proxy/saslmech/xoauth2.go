package saslmech

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/emersion/go-sasl"
)

// XOAuth2 is the mechanism name.
const XOAuth2 = "XOAUTH2"

// XOAuth2Error is the JSON document an XOAUTH2 server sends as a
// challenge when it refuses a token, e.g.
// {"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}.
type XOAuth2Error struct {
	Status  string `json:"status"`
	Schemes string `json:"schemes"`
	Scope   string `json:"scope"`
}

func (e *XOAuth2Error) Error() string {
	if e.Scope != "" {
		return fmt.Sprintf("token refused (status %s, scope %s)", e.Status, e.Scope)
	}
	return fmt.Sprintf("token refused (status %s)", e.Status)
}

// XOAuth2Client implements sasl.Client for XOAUTH2. After a failed
// exchange, Failure holds the server's error challenge, if it sent one.
type XOAuth2Client struct {
	Username string
	Token    string
	// Failure is set when the server sent an error challenge.
	Failure *XOAuth2Error
}

var _ sasl.Client = (*XOAuth2Client)(nil)

// NewXOAuth2Client returns a client for user with the given access token.
func NewXOAuth2Client(username, token string) *XOAuth2Client {
	return &XOAuth2Client{Username: username, Token: token}
}

// Start returns the initial response user=...^Aauth=Bearer ...^A^A.
func (c *XOAuth2Client) Start() (string, []byte, error) {
	ir := make([]byte, 0, len(c.Username)+len(c.Token)+20)
	ir = append(ir, "user="...)
	ir = append(ir, c.Username...)
	ir = append(ir, "\x01auth=Bearer "...)
	ir = append(ir, c.Token...)
	ir = append(ir, "\x01\x01"...)
	return XOAuth2, ir, nil
}

// Next answers the one challenge a server may send, the JSON error, with
// the empty response the protocol requires, and remembers the error. An
// empty challenge is the bare continuation of servers that do not take an
// initial response on the command line; Next then sends the credentials.
func (c *XOAuth2Client) Next(challenge []byte) ([]byte, error) {
	if len(challenge) == 0 {
		_, ir, _ := c.Start()
		return ir, nil
	}
	var e XOAuth2Error
	if err := json.Unmarshal(challenge, &e); err != nil {
		return nil, fmt.Errorf("xoauth2: %w: undecodable challenge", sasl.ErrUnexpectedServerChallenge)
	}
	c.Failure = &e
	return []byte{}, nil
}

// ErrInvalidScope is the cause when a server says the token lacks the scope.
var ErrInvalidScope = errors.New("access token lacks the mail scope")

package saslmech

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"

	"github.com/emersion/go-sasl"
)

// OAuthBearerClient implements sasl.Client for OAUTHBEARER (RFC 7628).
// go-sasl's client builds the initial response, but its Next gives up on
// the server's JSON error challenge, which leaves the server waiting for
// the lone %x01 that section 3.2.3 requires before it sends its final
// failure; this client sends it. After a failed exchange, Failure holds
// the error challenge.
type OAuthBearerClient struct {
	ir []byte
	// Failure is set when the server sent an error challenge.
	Failure *sasl.OAuthBearerError
}

var _ sasl.Client = (*OAuthBearerClient)(nil)

// NewOAuthBearerClient returns a client for user with the given access
// token. addr is the upstream's host:port, which the GS2 header names
// (RFC 7628 section 3.1); an addr without a port names no host.
func NewOAuthBearerClient(username, token, addr string) *OAuthBearerClient {
	opts := &sasl.OAuthBearerOptions{Username: username, Token: token}
	if host, port, err := net.SplitHostPort(addr); err == nil {
		opts.Host = host
		opts.Port, _ = strconv.Atoi(port)
	}
	_, ir, _ := sasl.NewOAuthBearerClient(opts).Start() // never fails
	return &OAuthBearerClient{ir: ir}
}

// Start returns the initial response n,a=user,^Ahost=...^Aauth=Bearer ...^A^A.
func (c *OAuthBearerClient) Start() (string, []byte, error) {
	return sasl.OAuthBearer, c.ir, nil
}

// Next answers the JSON error challenge with %x01 and remembers the
// error. An empty challenge is the bare continuation of servers that do
// not take an initial response on the command line; Next then sends the
// credentials.
func (c *OAuthBearerClient) Next(challenge []byte) ([]byte, error) {
	if len(challenge) == 0 {
		return c.ir, nil
	}
	var e sasl.OAuthBearerError
	if err := json.Unmarshal(challenge, &e); err != nil {
		return nil, fmt.Errorf("oauthbearer: %w: undecodable challenge", sasl.ErrUnexpectedServerChallenge)
	}
	c.Failure = &e
	return []byte{0x01}, nil
}

package pop3front

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/saslmech"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// IRStyle says how the upstream AUTH command carries the credentials.
type IRStyle string

// The styles. RFC 5034 lets a client put the initial response on the AUTH
// line only while that line fits RFC 2449's 255 octets; longer, it must
// send "AUTH mech", wait for "+", and send the response alone on a line
// (a response line is not a command line, so the limit does not apply).
// Microsoft's POP3 service expects exactly that second form.
const (
	// IRAuto sends the initial response on the AUTH line when the line
	// fits 255 octets, and as a continuation otherwise. Real access
	// tokens (a Microsoft JWT is well over 1 KiB, and even Google's
	// shorter tokens with the user name and framing come close) make the
	// line too long, so in practice auto means the continuation form;
	// short test tokens use the initial response.
	IRAuto IRStyle = "auto"
	// IRInitialResponse always sends "AUTH mech <base64>", for servers
	// known to accept long command lines.
	IRInitialResponse IRStyle = "initial-response"
	// IRContinuation always sends "AUTH mech", then the response after "+".
	IRContinuation IRStyle = "continuation"
)

// MaxCommandLine is RFC 2449's limit on a command line, CRLF included.
const MaxCommandLine = 255

// maxChallenges bounds the server's challenges after the credentials: an
// error challenge, or one empty "+" from a server that wanted them again.
const maxChallenges = 2

// ParseIRStyle checks a configured style; "" is IRAuto.
func ParseIRStyle(s string) (IRStyle, error) {
	switch st := IRStyle(strings.ToLower(s)); st {
	case "", IRAuto:
		return IRAuto, nil
	case IRInitialResponse, IRContinuation:
		return st, nil
	}
	return "", fmt.Errorf("pop3 initial response style %q: want auto, initial-response or continuation", s)
}

// useIR decides whether "AUTH mech encoded" goes on one line.
func (st IRStyle) useIR(mech, encoded string) bool {
	switch st {
	case IRInitialResponse:
		return true
	case IRContinuation:
		return false
	}
	return len("AUTH ")+len(mech)+len(" ")+len(encoded)+len("\r\n") <= MaxCommandLine
}

// auth runs AUTH with mech in the chosen style and reads to the end.
func (u *upConn) auth(mech mechClient, style IRStyle) error {
	name, ir, err := mech.Start()
	if err != nil {
		return fmt.Errorf("AUTH: %w: %v", upstream.ErrProtocol, err)
	}
	encoded := base64.StdEncoding.EncodeToString(ir)
	u.secrets = append(u.secrets, encoded)
	if style.useIR(name, encoded) {
		if err := u.send("AUTH " + name + " " + encoded); err != nil {
			return err
		}
		return u.finishAuth(mech)
	}
	if err := u.send("AUTH " + name); err != nil {
		return err
	}
	r, err := u.read("AUTH")
	if err != nil {
		return err
	}
	if r.kind != kindContinue || r.text != "" {
		return u.refusal("AUTH", r, upstream.ErrProtocol, "")
	}
	if err := u.send(encoded); err != nil {
		return err
	}
	return u.finishAuth(mech)
}

// finishAuth reads the outcome, answering challenges through mech: the
// XOAUTH2 and OAUTHBEARER error challenge must be answered (with an empty
// line, or ^A) before the server sends its final -ERR.
func (u *upConn) finishAuth(mech mechClient) error {
	for i := 0; ; i++ {
		r, err := u.read("AUTH")
		if err != nil {
			return err
		}
		switch {
		case r.kind == kindOK:
			return nil
		case r.kind == kindErr:
			return u.refusal("AUTH", r, upstream.ErrProtocol, mech.refused())
		case i >= maxChallenges:
			return fmt.Errorf("AUTH: %w: too many challenges", upstream.ErrProtocol)
		}
		if err := u.answer(mech, r.text); err != nil {
			return err
		}
	}
}

// answer sends mech's response to one base64 challenge.
func (u *upConn) answer(mech mechClient, encoded string) error {
	challenge, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return fmt.Errorf("AUTH: %w: challenge is not base64", upstream.ErrProtocol)
	}
	resp, err := mech.Next(challenge)
	if err != nil {
		return fmt.Errorf("AUTH: %w: %v", upstream.ErrProtocol, err)
	}
	return u.send(base64.StdEncoding.EncodeToString(resp))
}

// mechClient is a SASL client that remembers a server's error challenge.
type mechClient interface {
	sasl.Client
	name() string
	// refused describes the error challenge; "" when there was none.
	refused() string
}

// newMechClient returns the client for g.Mechanism.
func newMechClient(g *login.Grant) (mechClient, error) {
	switch strings.ToUpper(g.Mechanism) {
	case "", saslmech.XOAuth2:
		return xoauth2Client{saslmech.NewXOAuth2Client(g.UpstreamUser, g.AccessToken)}, nil
	case sasl.OAuthBearer:
		return bearerClient{saslmech.NewOAuthBearerClient(g.UpstreamUser, g.AccessToken, g.Upstream.Addr)}, nil
	}
	return nil, fmt.Errorf("%w: unsupported upstream mechanism %q", upstream.ErrProtocol, g.Mechanism)
}

type xoauth2Client struct{ *saslmech.XOAuth2Client }

func (xoauth2Client) name() string { return saslmech.XOAuth2 }

func (c xoauth2Client) refused() string {
	if c.Failure == nil {
		return ""
	}
	return c.Failure.Error()
}

// bearerClient describes OAUTHBEARER's error challenge for the log.
type bearerClient struct{ *saslmech.OAuthBearerClient }

func (bearerClient) name() string { return sasl.OAuthBearer }

func (c bearerClient) refused() string {
	if c.Failure == nil {
		return ""
	}
	return fmt.Sprintf("token refused (status %s)", c.Failure.Status)
}

package smtpfront

import (
	"errors"
	"strings"

	"github.com/oauthbridge/oauthbridge/proxy/lineio"
	"github.com/oauthbridge/oauthbridge/proxy/saslmech"
)

// errExchangeLine marks an over-long SASL response line, which RFC 4954
// answers with its own code (500 5.5.6).
var errExchangeLine = errors.New("authentication exchange line too long")

// exchange frames the SASL dialogue for SMTP: "334 <base64>" challenges,
// one base64 line per response.
type exchange struct{ c *conn }

func (e exchange) Challenge(encoded string) error {
	e.c.send("334 " + encoded + "\r\n")
	return e.c.werr
}

func (e exchange) Response() (string, error) {
	line, err := e.c.readLine()
	if errors.Is(err, lineio.ErrTooLong) {
		return "", errors.Join(errExchangeLine, err)
	}
	return line, err
}

// cmdAUTH collects a user name and password with PLAIN or LOGIN and logs
// in with them.
func (c *conn) cmdAUTH(arg string) step {
	switch {
	case !c.ehlo:
		c.send("503 5.5.1 Send EHLO first\r\n")
		return stepNext
	case !c.authAllowed():
		c.send("530 5.7.0 Must issue a STARTTLS command first\r\n")
		return stepNext
	}
	mech, ir, ok := c.parseAuthArg(arg)
	if !ok {
		return stepNext
	}
	creds, err := saslmech.Collect(mech, ir, exchange{c})
	if err != nil {
		return c.authFailed(err)
	}
	return c.login(creds)
}

// parseAuthArg splits "mechanism [initial-response]" and decodes the
// initial response (nil when absent), answering the client on error.
func (c *conn) parseAuthArg(arg string) (mech string, ir []byte, ok bool) {
	fields := strings.Fields(arg)
	if len(fields) == 0 || len(fields) > 2 {
		c.send("501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n")
		return "", nil, false
	}
	mech = strings.ToUpper(fields[0])
	if mech != "PLAIN" && mech != saslmech.Login {
		c.send("504 5.5.4 Unrecognized authentication type\r\n")
		return "", nil, false
	}
	if len(fields) == 1 {
		return mech, nil, true
	}
	ir, err := saslmech.DecodeResponse(fields[1])
	if err != nil {
		c.authFailed(err)
		return "", nil, false
	}
	return mech, ir, true
}

// authFailed answers a SASL dialogue that ended before any credentials
// were checked.
func (c *conn) authFailed(err error) step {
	switch {
	case errors.Is(err, saslmech.ErrCanceled):
		c.send("501 5.7.0 Authentication canceled\r\n")
	case errors.Is(err, saslmech.ErrBadBase64):
		c.send("501 5.5.2 Invalid base64 data\r\n")
	case errors.Is(err, saslmech.ErrBadAuthzid):
		c.send("535 5.7.8 Authorization identity must be empty or equal the user name\r\n")
	case errors.Is(err, saslmech.ErrMalformed):
		c.send("501 5.5.2 Malformed authentication data\r\n")
	case errors.Is(err, errExchangeLine):
		if !c.tooLong(err, "500 5.5.6 Authentication exchange line is too long\r\n") {
			return stepClose
		}
	default:
		if c.werr == nil {
			c.readFailed(err)
		}
		return stepClose
	}
	if c.werr != nil {
		return stepClose
	}
	return stepNext
}

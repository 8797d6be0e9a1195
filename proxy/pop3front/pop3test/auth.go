package pop3test

import (
	"encoding/base64"
	"strings"
)

// errorChallenge is the JSON an XOAUTH2 server sends for a refused token.
const errorChallenge = `{"status":"401","schemes":"bearer","scope":"https://mail.example/"}`

// auth runs AUTH XOAUTH2 or OAUTHBEARER in either style (or the one
// required), then logs the user in.
func (c *conn) auth(args []string) bool {
	if len(args) == 0 || len(args) > 2 {
		return c.send("-ERR Syntax: AUTH mechanism [initial-response]")
	}
	mech := strings.ToUpper(args[0])
	if mech != "XOAUTH2" && !(mech == "OAUTHBEARER" && c.srv.OAuthBearer) {
		return c.send("-ERR Unsupported mechanism")
	}
	encoded, ok := c.credentials(args)
	if !ok {
		return true
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return c.send("-ERR Invalid base64")
	}
	user, token, ok := parseCredentials(mech, string(raw))
	if !ok {
		return c.send("-ERR [AUTH] Malformed credentials")
	}
	if !c.valid(user, token) {
		return c.refuse()
	}
	c.user = strings.ToLower(user)
	c.drop = c.srv.open(c.user)
	return c.send("+OK Logged in")
}

// credentials returns the encoded response from the command line or from
// a continuation, enforcing the server's Style. ok is false when the
// command was already answered.
func (c *conn) credentials(args []string) (string, bool) {
	if len(args) == 2 {
		if c.srv.Style == StyleContinuation {
			c.send("-ERR Send AUTH without an initial response")
			return "", false
		}
		return args[1], true
	}
	if c.srv.Style == StyleInitialResponse {
		c.send("-ERR Initial response required")
		return "", false
	}
	if !c.send("+ ") {
		return "", false
	}
	line, err := c.readLine()
	if err != nil {
		return "", false
	}
	if line == "*" {
		c.send("-ERR Authentication canceled")
		return "", false
	}
	return line, true
}

func (c *conn) valid(user, token string) bool {
	if c.srv.Validate == nil {
		return false
	}
	who, ok := c.srv.Validate(token)
	return ok && strings.EqualFold(who, user)
}

// refuse sends the error challenge, waits for the client's (empty)
// answer, and fails the command.
func (c *conn) refuse() bool {
	if !c.send("+ %s", base64.StdEncoding.EncodeToString([]byte(errorChallenge))) {
		return false
	}
	if _, err := c.readLine(); err != nil {
		return false
	}
	return c.send("-ERR [AUTH] Authentication failed.")
}

// parseCredentials extracts the user and token from an XOAUTH2 response
// ("user=U^Aauth=Bearer T^A^A") or an OAUTHBEARER one
// ("n,a=U,^Ahost=...^Aauth=Bearer T^A^A").
func parseCredentials(mech, raw string) (user, token string, ok bool) {
	if !strings.HasSuffix(raw, "\x01\x01") {
		return "", "", false
	}
	fields := strings.Split(strings.TrimSuffix(raw, "\x01\x01"), "\x01")
	if mech == "OAUTHBEARER" {
		header := strings.Split(fields[0], ",")
		if len(header) < 3 || header[0] != "n" || !strings.HasPrefix(header[1], "a=") {
			return "", "", false
		}
		user, fields = header[1][2:], fields[1:]
	}
	for _, f := range fields {
		switch {
		case strings.HasPrefix(f, "user=") && mech == "XOAUTH2":
			user = f[len("user="):]
		case strings.HasPrefix(f, "auth=Bearer "):
			token = f[len("auth=Bearer "):]
		}
	}
	return user, token, user != "" && token != ""
}

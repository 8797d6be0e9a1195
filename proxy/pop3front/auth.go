package pop3front

import (
	"errors"
	"strings"

	"github.com/oauthbridge/oauthbridge/proxy/saslmech"
)

func (c *session) cmdUser(cmd command) bool {
	if !c.loginAllowed() {
		return c.reply(replyNeedTLS)
	}
	if cmd.Arg == "" {
		return c.reply(replyNoUser)
	}
	c.user, c.haveUser = cmd.Arg, true
	return c.reply(c.userReply(cmd.Arg))
}

// userReply is USER's "+OK", with the Hint for the name when there is one.
func (c *session) userReply(name string) string {
	if c.srv.Hint == nil {
		return replyUserOK
	}
	hint := oneLine(c.srv.Hint(name))
	if hint == "" {
		return replyUserOK
	}
	return "+OK Send PASS. " + hint + "\r\n"
}

// cmdPass logs in with the pending USER. Whatever the outcome, the name is
// used up: after a failure RFC 1939 has the client start again with USER.
func (c *session) cmdPass(cmd command) bool {
	if !c.loginAllowed() {
		return c.reply(replyNeedTLS)
	}
	if !c.haveUser {
		return c.reply(replyPassFirst)
	}
	if cmd.Arg == "" {
		return c.reply(replyNoPass)
	}
	user := c.user
	c.user, c.haveUser = "", false
	return c.login(user, cmd.Arg)
}

// cmdAuth runs AUTH (RFC 5034) with PLAIN or LOGIN; without an argument it
// lists the mechanisms, as the pre-RFC form of AUTH did and some clients
// still expect.
func (c *session) cmdAuth(cmd command) bool {
	if !c.loginAllowed() {
		return c.reply(replyNeedTLS)
	}
	c.user, c.haveUser = "", false
	args := strings.Fields(cmd.Arg)
	switch {
	case len(args) == 0:
		return c.reply(replyMechList)
	case len(args) > 2:
		return c.reply(replyAuthSyntax)
	case !supportedMech(args[0]):
		return c.reply(replyNoMech)
	}
	var ir []byte
	if len(args) == 2 {
		var err error
		if ir, err = saslmech.DecodeResponse(args[1]); err != nil {
			return c.saslFailed(err)
		}
	}
	creds, err := saslmech.Collect(args[0], ir, exchange{c})
	if err != nil {
		return c.saslFailed(err)
	}
	return c.login(creds.Username, creds.Password)
}

func supportedMech(name string) bool {
	for _, m := range saslmech.Mechanisms {
		if strings.EqualFold(name, m) {
			return true
		}
	}
	return false
}

// saslFailed answers a failed AUTH dialogue and says whether to go on.
func (c *session) saslFailed(err error) bool {
	var re *readError
	switch {
	case errors.As(err, &re):
		if errors.Is(re.err, errWrite) {
			return false
		}
		return c.readFailed(re.err)
	case errors.Is(err, saslmech.ErrCanceled):
		return c.reply(replyCanceled)
	case errors.Is(err, saslmech.ErrBadBase64):
		return c.reply(replyBadBase64)
	case errors.Is(err, saslmech.ErrBadAuthzid):
		return c.reply(replyBadAuthzid)
	case errors.Is(err, saslmech.ErrUnsupported):
		return c.reply(replyNoMech)
	default:
		return c.reply(replyMalformed)
	}
}

// errWrite marks a failed challenge write; the reply is already logged.
var errWrite = errors.New("write failed")

// readError carries an I/O failure out of the SASL dialogue, so that it
// is told apart from the mechanism's own errors.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// exchange frames the SASL dialogue for POP3 (RFC 5034): a challenge is
// "+ " and base64, a response is one line.
type exchange struct{ c *session }

func (e exchange) Challenge(encoded string) error {
	if !e.c.reply("+ " + encoded + "\r\n") {
		return &readError{err: errWrite}
	}
	return nil
}

func (e exchange) Response() (string, error) {
	line, err := e.c.lr.ReadLine()
	if err != nil {
		return "", &readError{err: err}
	}
	return string(line), nil
}

package pop3front

import (
	"fmt"
	"strings"

	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// replyKind is the status of an upstream reply line.
type replyKind int

const (
	kindOK       replyKind = iota // +OK
	kindErr                       // -ERR
	kindContinue                  // "+" or "+ base64" (RFC 5034 challenge)
)

// reply is one parsed upstream status line.
type reply struct {
	kind replyKind
	// code is the RFC 2449 response code without brackets, upper case.
	code string
	// text is the rest of the line (for a challenge: the base64).
	text string
}

// maxCodeLen bounds a response code; a longer bracket is taken as text.
const maxCodeLen = 64

// parseReply parses an upstream reply line. Status indicators are
// matched case-insensitively, which RFC 1939 does not require but some
// servers need.
func parseReply(line string) (reply, error) {
	status, text, _ := strings.Cut(line, " ")
	switch strings.ToUpper(status) {
	case "+OK":
		return reply{kind: kindOK, text: text}, nil
	case "+":
		return reply{kind: kindContinue, text: strings.TrimSpace(text)}, nil
	case "-ERR":
		code, rest := splitCode(text)
		return reply{kind: kindErr, code: code, text: rest}, nil
	}
	return reply{}, fmt.Errorf("%w: reply without +OK or -ERR", upstream.ErrProtocol)
}

// splitCode separates a leading "[CODE]" from the text.
func splitCode(text string) (code, rest string) {
	if !strings.HasPrefix(text, "[") {
		return "", text
	}
	end := strings.IndexByte(text, ']')
	if end < 0 || end > maxCodeLen || !isCodeText(text[1:end]) {
		return "", text
	}
	return strings.ToUpper(text[1:end]), strings.TrimSpace(text[end+1:])
}

// isCodeText reports whether s can be a response code: RFC 2449 codes are
// printable ASCII without spaces. Anything else is server text (and
// upper-casing invalid UTF-8 would even lengthen it).
func isCodeText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// classify maps a -ERR's response code to a sentinel (RFC 2449, 3206):
// [AUTH] is a refused token, [SYS/TEMP], [IN-USE] and [LOGIN-DELAY] are
// temporary. Without a code, a preceding error challenge means the token
// was refused; otherwise def applies.
func classify(code string, challenged bool, def error) error {
	first, _, _ := strings.Cut(code, "/")
	switch {
	case first == "AUTH":
		return upstream.ErrRejected
	case code == "SYS/TEMP" || strings.HasPrefix(code, "SYS/TEMP/"),
		first == "IN-USE", first == "LOGIN-DELAY":
		return upstream.ErrUnavailable
	case code == "" && challenged:
		return upstream.ErrRejected
	}
	return def
}

// ReplyError is a negative (or unexpected) reply from the upstream during
// login. It unwraps to one of package upstream's sentinel errors.
type ReplyError struct {
	// Step is the command answered: "greeting", "STLS", "CAPA", "AUTH".
	Step string
	// Code is the response code without brackets ("AUTH", "SYS/TEMP"),
	// empty when the server sent none.
	Code string
	// Text is the server's text, one line, scrubbed of secrets.
	Text string
	// Challenge describes an XOAUTH2/OAUTHBEARER error challenge the
	// server sent before the reply ("token refused (status 401 ...)").
	Challenge string
	// Err is the sentinel the reply maps to.
	Err error
}

func (e *ReplyError) Error() string {
	msg := fmt.Sprintf("%s: %v: server replied", e.Step, e.Err)
	if e.Code != "" {
		msg += " [" + e.Code + "]"
	}
	if e.Text != "" {
		msg += " " + e.Text
	}
	if e.Challenge != "" {
		msg += " after " + e.Challenge
	}
	return msg
}

// Unwrap returns the sentinel.
func (e *ReplyError) Unwrap() error { return e.Err }

// refusal builds the error for a reply that is not the expected one;
// challenge describes an error challenge received before it, if any.
func (u *upConn) refusal(step string, r reply, def error, challenge string) error {
	if r.kind != kindErr {
		return &ReplyError{Step: step, Text: "unexpected reply", Err: upstream.ErrProtocol}
	}
	return &ReplyError{
		Step:      step,
		Code:      r.code,
		Text:      u.scrub(r.text),
		Challenge: challenge,
		Err:       classify(r.code, challenge != "", def),
	}
}

// secretPrefix is how much of a secret's start marks a text as an echo.
const secretPrefix = 12

// maxServerText bounds the server text kept in a ReplyError.
const maxServerText = 200

// scrub returns text fit to show and log: one line, bounded, and withheld
// entirely if it contains a secret or the start of one (a server that
// echoes the command line, even cut short, would otherwise leak the
// token).
func (u *upConn) scrub(text string) string {
	for _, s := range u.secrets {
		if s != "" && strings.Contains(text, s[:min(len(s), secretPrefix)]) {
			return "(text withheld: it repeats the credentials)"
		}
	}
	text = oneLine(text)
	if len(text) > maxServerText {
		text = strings.ToValidUTF8(text[:maxServerText], "") + "..."
	}
	return text
}

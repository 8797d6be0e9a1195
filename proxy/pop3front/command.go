package pop3front

import (
	"errors"
	"strings"
)

// maxVerb is RFC 2449's longest keyword.
const maxVerb = 40

// Parse errors; each maps to one "-ERR" reply.
var (
	errEmpty   = errors.New("empty command line")
	errBadVerb = errors.New("malformed command keyword")
	errBadByte = errors.New("control character in command line")
)

// command is one parsed command line.
type command struct {
	// Verb is the keyword in upper case (POP3 keywords are
	// case-insensitive).
	Verb string
	// Arg is everything after the first space, verbatim: PASS takes the
	// whole rest of the line, since passwords may contain spaces.
	Arg string
}

// parseCommand splits a command line (without CRLF). Bytes >= 0x80 are
// allowed in arguments because clients send Latin-1 or UTF-8 passwords;
// control characters are not, so that nothing odd reaches an
// Authenticator or a log line.
func parseCommand(line []byte) (command, error) {
	if len(line) == 0 {
		return command{}, errEmpty
	}
	for _, b := range line {
		if b < 0x20 || b == 0x7f {
			return command{}, errBadByte
		}
	}
	verb, arg, _ := strings.Cut(string(line), " ")
	if !validVerb(verb) {
		return command{}, errBadVerb
	}
	return command{Verb: strings.ToUpper(verb), Arg: arg}, nil
}

// validVerb reports whether v is a keyword: 1 to 40 ASCII letters or
// digits.
func validVerb(v string) bool {
	if len(v) == 0 || len(v) > maxVerb {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i] | 0x20 // fold ASCII letters to lower case
		if !(c >= 'a' && c <= 'z') && !(v[i] >= '0' && v[i] <= '9') {
			return false
		}
	}
	return true
}

// transactionVerbs are the commands of the TRANSACTION state (RFC 1939,
// 2449). Before login they get a reply that says to log in first rather
// than "unknown command", which would suggest a broken server.
var transactionVerbs = map[string]bool{
	"STAT": true, "LIST": true, "RETR": true, "DELE": true, "NOOP": true,
	"RSET": true, "TOP": true, "UIDL": true, "LAST": true,
}

package smtpfront

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/oauthbridge/oauthbridge/proxy/lineio"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

const (
	// maxReplyLines bounds one multi-line upstream reply (an EHLO reply
	// has a dozen lines).
	maxReplyLines = 100
	// maxUpstreamLine bounds one upstream reply line; RFC 5321 says 512.
	maxUpstreamLine = 4096
	// maxQuoted bounds server text quoted to the client, so a reply line
	// stays well under common client limits.
	maxQuoted = 400
	// maxConsent bounds a consent message, which carries a link that must
	// not be cut.
	maxConsent = 900
)

// reply is one (possibly multi-line) SMTP reply from the upstream.
type reply struct {
	code  int
	lines []string // the text of each line, after "250-" / "250 "
}

// text is the reply's text on one line, fit to quote to a client.
func (r reply) text() string {
	return clean(strings.Join(r.lines, " "), maxQuoted)
}

// errBadReply: the upstream's bytes are not an SMTP reply.
var errBadReply = errors.New("malformed reply")

// parseReplyLine splits "250-text" / "250 text" / "250".
func parseReplyLine(line string) (code int, last bool, text string, err error) {
	if len(line) < 3 || line[0] < '2' || line[0] > '5' {
		return 0, false, "", errBadReply
	}
	for i := 0; i < 3; i++ {
		if line[i] < '0' || line[i] > '9' {
			return 0, false, "", errBadReply
		}
		code = code*10 + int(line[i]-'0')
	}
	switch {
	case len(line) == 3:
		return code, true, "", nil
	case line[3] == ' ':
		return code, true, line[4:], nil
	case line[3] == '-':
		return code, false, line[4:], nil
	}
	return 0, false, "", errBadReply
}

// readReply reads one complete reply; all its lines must carry one code.
func readReply(lr *lineio.Reader) (reply, error) {
	var r reply
	for range maxReplyLines {
		b, err := lr.ReadLine()
		if err != nil {
			return r, err
		}
		code, last, text, err := parseReplyLine(string(b))
		if err != nil || (r.code != 0 && code != r.code) {
			return r, fmt.Errorf("%w: %w: %q", upstream.ErrProtocol, errBadReply, clean(string(b), maxQuoted))
		}
		r.code = code
		r.lines = append(r.lines, text)
		if last {
			return r, nil
		}
	}
	return r, fmt.Errorf("%w: reply longer than %d lines", upstream.ErrProtocol, maxReplyLines)
}

// replyError is an upstream reply that ended the login. It unwraps to the
// upstream sentinel that says what kind of failure it is, and keeps the
// server's text (never secret) for the user.
type replyError struct {
	stage string
	code  int
	text  string
	kind  error
}

func (e *replyError) Error() string {
	return fmt.Sprintf("upstream %s: %d %s: %v", e.stage, e.code, e.text, e.kind)
}

func (e *replyError) Unwrap() error { return e.kind }

// unexpected turns a reply the login could not go on with into an error:
// a temporary failure for 4xx, a refused token for 534/535 during AUTH,
// a protocol error otherwise.
func unexpected(stage string, r reply) error {
	kind := upstream.ErrProtocol
	switch {
	case r.code/100 == 4:
		kind = upstream.ErrUnavailable
	case stage == "auth" && (r.code == 535 || r.code == 534):
		kind = upstream.ErrRejected
	}
	return &replyError{stage: stage, code: r.code, text: r.text(), kind: kind}
}

// clean makes text safe to put in one reply line: control characters
// become spaces, invalid UTF-8 is replaced, and the length is bounded.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

package imapfront

import (
	"bytes"
	"strings"
)

// response is one line from an upstream server, split the way the login
// dialogue needs it.
type response struct {
	// tag is "*" for untagged data, "+" for a continuation request, or
	// the tag of a command's completion.
	tag string
	// kind is the upper-cased word after the tag: OK, NO, BAD, BYE,
	// PREAUTH, CAPABILITY, ... Empty for a continuation.
	kind string
	// code and codeArgs are a status response's [CODE args].
	code, codeArgs string
	// text is the rest: human-readable text, the capability list, or the
	// continuation's base64.
	text string
}

// parseResponse never fails: whatever does not fit ends up in text, and
// the caller decides from tag and kind whether that is acceptable.
func parseResponse(line []byte) response {
	s := string(bytes.ToValidUTF8(line, []byte("?")))
	if s == "+" || strings.HasPrefix(s, "+ ") {
		return response{tag: "+", text: strings.TrimPrefix(strings.TrimPrefix(s, "+"), " ")}
	}
	var r response
	r.tag, s, _ = strings.Cut(s, " ")
	r.kind, s, _ = strings.Cut(s, " ")
	r.kind = strings.ToUpper(r.kind)
	r.code, r.codeArgs, r.text = splitCode(s)
	return r
}

// splitCode separates "[CODE args] text" into its parts.
func splitCode(s string) (code, args, text string) {
	if !strings.HasPrefix(s, "[") {
		return "", "", s
	}
	inner, rest, ok := strings.Cut(s[1:], "]")
	if !ok {
		return "", "", s
	}
	code, args, _ = strings.Cut(inner, " ")
	return strings.ToUpper(code), args, strings.TrimPrefix(rest, " ")
}

// isStatus reports whether r is a status response (RFC 3501 7.1).
func (r response) isStatus() bool {
	switch r.kind {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		return true
	}
	return false
}

// capabilities returns the capability list r carries, if any: a
// "* CAPABILITY ..." line or a status response with [CAPABILITY ...].
func (r response) capabilities() ([]string, bool) {
	switch {
	case r.tag == "*" && r.kind == "CAPABILITY":
		return strings.Fields(r.text), true
	case r.isStatus() && r.code == "CAPABILITY":
		return strings.Fields(r.codeArgs), true
	}
	return nil, false
}

// hasCap reports whether caps holds name, case-insensitively.
func hasCap(caps []string, name string) bool {
	for _, c := range caps {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}

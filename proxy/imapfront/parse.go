package imapfront

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Command is one client command of the not-authenticated state, parsed.
type Command struct {
	// Tag is the client's tag, empty when even the tag did not parse.
	Tag string
	// Name is the command name in upper case.
	Name string
	// Args are the decoded arguments of the commands the front end
	// serves: LOGIN (user name, password), AUTHENTICATE (mechanism, then
	// the initial response if present, still base64) and ID (the field
	// and value strings, "" for NIL). Other commands keep none.
	Args []string
}

// ErrSyntax marks a command that does not follow the grammar. The error
// text is safe to send to the client: it never quotes argument bytes.
var ErrSyntax = errors.New("syntax error")

// maxLiteralDigits bounds "{n}" so that n cannot overflow.
const maxLiteralDigits = 10

// Parse parses one complete command as it came off the wire, without its
// final CRLF, with every literal inline: `{n}` or `{n+}`, CRLF, then the n
// bytes. The returned Command carries the tag even when err is not nil,
// so that the caller can answer with a tagged BAD.
func Parse(raw []byte) (*Command, error) {
	p := &parser{b: raw}
	cmd := &Command{}
	tag, err := p.tag()
	if err != nil {
		return cmd, err
	}
	cmd.Tag = tag
	if err := p.sp(); err != nil {
		return cmd, err
	}
	name, err := p.atom()
	if err != nil {
		return cmd, syntaxf("missing command name")
	}
	cmd.Name = strings.ToUpper(name)
	cmd.Args, err = p.args(cmd.Name)
	return cmd, err
}

// args parses the arguments of the commands the front end serves; for the
// others the arguments are irrelevant since they are refused anyway.
func (p *parser) args(name string) ([]string, error) {
	switch name {
	case "LOGIN":
		return p.loginArgs()
	case "AUTHENTICATE":
		return p.authenticateArgs()
	case "ID":
		return p.idArgs()
	case "CAPABILITY", "NOOP", "LOGOUT", "STARTTLS":
		return nil, p.end()
	}
	return nil, nil
}

func (p *parser) loginArgs() ([]string, error) {
	user, err := p.spAstring()
	if err != nil {
		return nil, err
	}
	pass, err := p.spAstring()
	if err != nil {
		return nil, err
	}
	return []string{user, pass}, p.end()
}

func (p *parser) authenticateArgs() ([]string, error) {
	if err := p.sp(); err != nil {
		return nil, err
	}
	mech, err := p.atom()
	if err != nil {
		return nil, syntaxf("missing mechanism name")
	}
	args := []string{mech}
	if p.done() {
		return args, nil
	}
	if err := p.sp(); err != nil {
		return nil, err
	}
	ir, err := p.atom()
	if err != nil {
		return nil, syntaxf("bad initial response")
	}
	return append(args, ir), p.end()
}

// idArgs parses RFC 2971 `ID SP ( "(" string SP nstring ... ")" / NIL )`,
// accepting atoms where strings belong since the values are only logged.
func (p *parser) idArgs() ([]string, error) {
	if err := p.sp(); err != nil {
		return nil, err
	}
	if p.consumeNIL() {
		return nil, p.end()
	}
	if !p.consume('(') {
		return nil, syntaxf("ID expects a parenthesised list or NIL")
	}
	var vals []string
	for !p.consume(')') {
		if len(vals) > 0 {
			if err := p.sp(); err != nil {
				return nil, err
			}
		}
		v, err := p.nstring()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
	}
	return vals, p.end()
}

type parser struct {
	b []byte
	i int
}

func syntaxf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrSyntax, fmt.Sprintf(format, a...))
}

func (p *parser) done() bool { return p.i >= len(p.b) }

func (p *parser) consume(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) sp() error {
	if !p.consume(' ') {
		return syntaxf("expected a space at column %d", p.i+1)
	}
	return nil
}

func (p *parser) end() error {
	if !p.done() {
		return syntaxf("unexpected characters at column %d", p.i+1)
	}
	return nil
}

func (p *parser) tag() (string, error) {
	start := p.i
	for p.i < len(p.b) && isTagChar(p.b[p.i]) {
		p.i++
	}
	if p.i == start {
		return "", syntaxf("missing or invalid tag")
	}
	return string(p.b[start:p.i]), nil
}

func (p *parser) atom() (string, error) {
	return p.run(isAtomChar)
}

func (p *parser) run(ok func(byte) bool) (string, error) {
	start := p.i
	for p.i < len(p.b) && ok(p.b[p.i]) {
		p.i++
	}
	if p.i == start {
		return "", syntaxf("expected an atom at column %d", p.i+1)
	}
	return string(p.b[start:p.i]), nil
}

func (p *parser) spAstring() (string, error) {
	if err := p.sp(); err != nil {
		return "", err
	}
	return p.astring()
}

// astring is an atom (which may contain "]"), a quoted string or a literal.
func (p *parser) astring() (string, error) {
	if p.done() {
		return "", syntaxf("missing argument")
	}
	switch p.b[p.i] {
	case '"':
		return p.quoted()
	case '{':
		return p.literal()
	}
	return p.run(isAstringChar)
}

func (p *parser) nstring() (string, error) {
	if p.consumeNIL() {
		return "", nil
	}
	return p.astring()
}

// consumeNIL consumes NIL when it is a whole token.
func (p *parser) consumeNIL() bool {
	rest := p.b[p.i:]
	if len(rest) < 3 || !bytes.EqualFold(rest[:3], []byte("NIL")) {
		return false
	}
	if len(rest) > 3 && isAstringChar(rest[3]) {
		return false
	}
	p.i += 3
	return true
}

// quoted parses a quoted string with the \" and \\ escapes. Bytes >= 0x80
// are accepted: clients send non-ASCII passwords in quoted strings.
func (p *parser) quoted() (string, error) {
	p.i++ // opening quote
	var sb strings.Builder
	for p.i < len(p.b) {
		c := p.b[p.i]
		p.i++
		switch {
		case c == '"':
			return sb.String(), nil
		case c == '\\':
			if p.i >= len(p.b) || (p.b[p.i] != '"' && p.b[p.i] != '\\') {
				return "", syntaxf("bad escape in quoted string")
			}
			sb.WriteByte(p.b[p.i])
			p.i++
		case c == '\r' || c == '\n' || c == 0:
			return "", syntaxf("bad character in quoted string")
		default:
			sb.WriteByte(c)
		}
	}
	return "", syntaxf("unterminated quoted string")
}

// isAtomChar: any CHAR except atom-specials (RFC 3501 section 9), and
// 8-bit bytes, which some clients put in user names.
func isAtomChar(c byte) bool {
	if c <= ' ' || c == 0x7f {
		return false
	}
	return !strings.ContainsRune(`(){%*"\]`, rune(c))
}

func isAstringChar(c byte) bool { return c == ']' || isAtomChar(c) }

// isTagChar: ASTRING-CHAR except "+".
func isTagChar(c byte) bool { return c != '+' && c < 0x80 && isAstringChar(c) }

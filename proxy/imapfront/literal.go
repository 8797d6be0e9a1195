package imapfront

import (
	"bytes"
	"strconv"
)

// literal parses `{n}` or `{n+}`, CRLF and n bytes, as the command reader
// inlined them.
func (p *parser) literal() (string, error) {
	end := bytes.IndexByte(p.b[p.i:], '}')
	if end < 0 {
		return "", syntaxf("bad literal")
	}
	n, _, err := literalSize(p.b[p.i+1 : p.i+end])
	if err != nil {
		return "", err
	}
	p.i += end + 1
	if !bytes.HasPrefix(p.b[p.i:], []byte("\r\n")) {
		return "", syntaxf("literal must end its line")
	}
	p.i += 2
	if int64(len(p.b)-p.i) < n {
		return "", syntaxf("literal shorter than announced")
	}
	v := p.b[p.i : p.i+int(n)]
	if bytes.IndexByte(v, 0) >= 0 {
		return "", syntaxf("NUL in literal")
	}
	p.i += int(n)
	return string(v), nil
}

// literalSize parses the inside of a literal announcement, "12" or "12+".
func literalSize(spec []byte) (n int64, nonSync bool, err error) {
	if d, ok := bytes.CutSuffix(spec, []byte("+")); ok {
		spec, nonSync = d, true
	}
	if len(spec) == 0 || len(spec) > maxLiteralDigits {
		return 0, false, syntaxf("bad literal size")
	}
	for _, c := range spec {
		if c < '0' || c > '9' {
			return 0, false, syntaxf("bad literal size")
		}
	}
	n, err = strconv.ParseInt(string(spec), 10, 64)
	if err != nil {
		return 0, false, syntaxf("bad literal size")
	}
	return n, nonSync, nil
}

// trailingLiteral reports whether line ends with a literal announcement
// outside any quoted string, preceded by a space or "(" as the grammar
// requires. The command reader then reads the literal's bytes.
func trailingLiteral(line []byte) (n int64, nonSync, ok bool, err error) {
	if len(line) == 0 || line[len(line)-1] != '}' || inQuote(line) {
		return 0, false, false, nil
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 1 || (line[open-1] != ' ' && line[open-1] != '(') {
		return 0, false, false, nil
	}
	n, nonSync, err = literalSize(line[open+1 : len(line)-1])
	return n, nonSync, err == nil, err
}

// inQuote reports whether line ends inside a quoted string.
func inQuote(line []byte) bool {
	in := false
	for i := 0; i < len(line); i++ {
		switch {
		case in && line[i] == '\\':
			i++
		case line[i] == '"':
			in = !in
		}
	}
	return in
}

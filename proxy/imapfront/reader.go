package imapfront

import (
	"bytes"
	"fmt"
	"io"
)

// readError is a command the reader refused before it was complete. drop
// says the stream cannot be resynchronised (a non-synchronising literal's
// bytes are already on their way).
type readError struct {
	tag  string
	text string
	drop bool
}

func (e *readError) Error() string { return e.text }

// readCommand reads one command with its literals, inlined as Parse
// expects them. For a synchronising literal it sends the continuation
// request first; a literal over the limit is refused instead.
func (c *conn) readCommand() ([]byte, error) {
	var cmd []byte
	for literals := 0; ; literals++ {
		line, err := c.lines.ReadLine()
		if err != nil {
			return nil, err
		}
		cmd = append(cmd, line...)
		n, nonSync, ok, err := trailingLiteral(line)
		if err != nil {
			return nil, c.refuseLiteral(cmd, line, "Bad literal size")
		}
		if !ok {
			return cmd, nil
		}
		if literals >= maxLiterals {
			return nil, c.refuseLiteral(cmd, line, "Too many literals")
		}
		if n > int64(c.srv.maxLiteral()) {
			return nil, c.refuseLiteral(cmd, line, "[TOOBIG] Literal too big")
		}
		if cmd, err = c.readLiteral(cmd, int(n), nonSync); err != nil {
			return nil, err
		}
	}
}

// readLiteral appends CRLF and the literal's n bytes to cmd.
func (c *conn) readLiteral(cmd []byte, n int, nonSync bool) ([]byte, error) {
	if !nonSync {
		if err := c.send("+ Ready for literal data"); err != nil {
			return nil, err
		}
	}
	cmd = append(cmd, '\r', '\n')
	start := len(cmd)
	cmd = append(cmd, make([]byte, n)...)
	if _, err := io.ReadFull(c.br, cmd[start:]); err != nil {
		return nil, fmt.Errorf("reading %d byte literal: %w", n, err)
	}
	return cmd, nil
}

// refuseLiteral builds the error for a literal the front end will not
// read. A synchronising literal is never sent once refused, so the client
// stays in step; a non-synchronising one is already coming, so the
// connection must end.
func (c *conn) refuseLiteral(cmd, line []byte, text string) error {
	return &readError{tag: leadingTag(cmd), text: text, drop: bytes.HasSuffix(line, []byte("+}"))}
}

// leadingTag returns the tag of a command that will not be parsed in full.
func leadingTag(cmd []byte) string {
	p := &parser{b: cmd}
	tag, err := p.tag()
	if err != nil || p.sp() != nil {
		return ""
	}
	return tag
}

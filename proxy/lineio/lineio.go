// Package lineio reads the CRLF-terminated command lines of text mail
// protocols with a hard bound on their length, so that a client cannot
// make a front end buffer without limit before it has logged in.
package lineio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrTooLong is returned for a line longer than the reader's limit. The
// rest of the line has been discarded up to MaxDiscard bytes; past that the
// caller should drop the connection (ErrTooLong wrapped with ErrDrop).
var ErrTooLong = errors.New("line too long")

// ErrDrop marks an error after which the connection cannot be resynchronised.
var ErrDrop = errors.New("connection must be closed")

// Reader reads bounded lines from a buffered reader.
type Reader struct {
	// R is the underlying reader. Bytes read ahead stay in R, so a front
	// end can hand them to the relay after login.
	R *bufio.Reader
	// Max is the longest line accepted, without the line ending.
	Max int
	// MaxDiscard bounds how much of an over-long line is skipped before
	// giving up on the connection.
	MaxDiscard int
}

// New returns a Reader over r with the given limit; r's buffer must be at
// least max+2 bytes so that a full line fits.
func New(r *bufio.Reader, max int) *Reader {
	return &Reader{R: r, Max: max, MaxDiscard: 64 * 1024}
}

// ReadLine returns the next line without its CRLF (a bare LF is accepted,
// as most servers do). The slice is valid until the next read.
func (l *Reader) ReadLine() ([]byte, error) {
	line, err := l.R.ReadSlice('\n')
	switch {
	case err == nil:
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, l.discard(len(line))
	case errors.Is(err, io.EOF) && len(line) > 0:
		return nil, io.ErrUnexpectedEOF
	default:
		return nil, err
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
	if len(line) > l.Max {
		return nil, ErrTooLong
	}
	return line, nil
}

// discard skips the rest of an over-long line.
func (l *Reader) discard(seen int) error {
	for seen < l.MaxDiscard {
		chunk, err := l.R.ReadSlice('\n')
		seen += len(chunk)
		if err == nil {
			return ErrTooLong
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("%w: %w", ErrTooLong, ErrDrop)
		}
	}
	return fmt.Errorf("%w: %w", ErrTooLong, ErrDrop)
}

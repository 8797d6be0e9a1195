package pop3test

import (
	"bufio"
	"bytes"
)

// message is one stored message.
type message struct {
	uid  string
	data []byte
}

// mailbox is one user's maildrop.
type mailbox struct {
	msgs []*message
}

// maildrop is a session's view: the messages at login, numbered from 1,
// and the ones marked for deletion.
type maildrop struct {
	msgs    []*message
	deleted []bool
}

// open takes a snapshot of user's mailbox for a new session.
func (s *Server) open(user string) *maildrop {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs := append([]*message(nil), s.box(user).msgs...)
	return &maildrop{msgs: msgs, deleted: make([]bool, len(msgs))}
}

// commit removes the messages the session deleted (RFC 1939 UPDATE state).
func (s *Server) commit(user string, d *maildrop) {
	gone := map[*message]bool{}
	for i, m := range d.msgs {
		if d.deleted[i] {
			gone[m] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.box(user)
	kept := b.msgs[:0]
	for _, m := range b.msgs {
		if !gone[m] {
			kept = append(kept, m)
		}
	}
	b.msgs = kept
}

// get returns message n (1-based) unless it is missing or deleted.
func (d *maildrop) get(n int) *message {
	if n < 1 || n > len(d.msgs) || d.deleted[n-1] {
		return nil
	}
	return d.msgs[n-1]
}

// stat returns the count and total size of the undeleted messages.
func (d *maildrop) stat() (count, size int) {
	for i, m := range d.msgs {
		if !d.deleted[i] {
			count++
			size += len(m.data)
		}
	}
	return count, size
}

// writeDotStuffed writes msg as a multi-line response body (RFC 1939
// section 3): a line starting with "." gets another "." in front, the
// message ends with CRLF, and ".\r\n" terminates it.
func writeDotStuffed(w *bufio.Writer, msg []byte) error {
	for rest := msg; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		if line[0] == '.' {
			w.WriteByte('.')
		}
		w.Write(line)
	}
	if len(msg) > 0 && !bytes.HasSuffix(msg, []byte("\r\n")) {
		w.WriteString("\r\n")
	}
	_, err := w.WriteString(".\r\n")
	return err
}

//go:build integration

package integration

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Sink is the SMTP server Dovecot's submission service relays to: it
// accepts everything and keeps each message, so a test can check that mail
// submitted through the proxy arrived byte for byte.
type Sink struct {
	Addr string
	srv  *smtp.Server
	mu   sync.Mutex
	msgs []SinkMessage
}

// SinkMessage is one relayed message.
type SinkMessage struct {
	From string
	To   []string
	Data []byte
}

// StartSink listens on a free 127.0.0.1 port.
func StartSink() (*Sink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtp sink: %w", err)
	}
	s := &Sink{Addr: l.Addr().String()}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &sinkSession{sink: s}, nil
	}))
	s.srv.Domain = "sink.example.test"
	s.srv.ReadTimeout, s.srv.WriteTimeout = time.Minute, time.Minute
	s.srv.MaxMessageBytes = 64 << 20
	go s.srv.Serve(l)
	return s, nil
}

// Close stops the sink.
func (s *Sink) Close() { s.srv.Close() }

// Messages returns a copy of what arrived so far.
func (s *Sink) Messages() []SinkMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SinkMessage(nil), s.msgs...)
}

// Find returns the first message whose data contains marker.
func (s *Sink) Find(marker string) (SinkMessage, bool) {
	for _, m := range s.Messages() {
		if bytes.Contains(m.Data, []byte(marker)) {
			return m, true
		}
	}
	return SinkMessage{}, false
}

type sinkSession struct {
	sink *Sink
	cur  SinkMessage
}

func (s *sinkSession) Reset()        { s.cur = SinkMessage{} }
func (s *sinkSession) Logout() error { return nil }

func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.From = from
	return nil
}

func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	s.sink.mu.Lock()
	s.sink.msgs = append(s.sink.msgs, s.cur)
	s.sink.mu.Unlock()
	return nil
}

// StripReceived removes the leading Received: header fields (with their
// folded continuation lines) that each relay prepends, leaving the message
// as its sender wrote it.
func StripReceived(b []byte) []byte {
	for bytes.HasPrefix(b, []byte("Received:")) {
		i := bytes.Index(b, []byte("\n"))
		for i >= 0 && i+1 < len(b) && (b[i+1] == ' ' || b[i+1] == '\t') {
			j := bytes.Index(b[i+1:], []byte("\n"))
			if j < 0 {
				return nil
			}
			i += 1 + j
		}
		if i < 0 {
			return nil
		}
		b = b[i+1:]
	}
	return b
}

package pop3test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// AUTH styles a Server can insist on.
const (
	// StyleAny accepts both forms.
	StyleAny = ""
	// StyleInitialResponse requires "AUTH XOAUTH2 <base64>".
	StyleInitialResponse = "initial-response"
	// StyleContinuation requires "AUTH XOAUTH2", "+ ", then the base64.
	StyleContinuation = "continuation"
)

// IdleTimeout bounds the wait for each command line.
const IdleTimeout = 30 * time.Second

// Server is a test POP3 server. Set the fields, then call Start.
type Server struct {
	// Validate checks an access token and returns the user it was issued
	// to; the XOAUTH2 user name must match it (case-insensitively). nil
	// refuses every token.
	Validate func(token string) (user string, ok bool)
	// TLSConfig enables TLS: STLS when Implicit is false.
	TLSConfig *tls.Config
	// Implicit starts TLS on the first byte (POP3S).
	Implicit bool
	// Style restricts the AUTH form: StyleAny, StyleInitialResponse or
	// StyleContinuation.
	Style string
	// OAuthBearer also accepts AUTH OAUTHBEARER (RFC 7628).
	OAuthBearer bool

	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	boxes map[string]*mailbox
	conns map[net.Conn]struct{}
	uid   int
}

// Start listens on 127.0.0.1 on a free port and serves in the background.
func (s *Server) Start() error {
	if s.Implicit && s.TLSConfig == nil {
		return errors.New("pop3test: implicit TLS needs a TLSConfig")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("pop3test: listen: %w", err)
	}
	s.mu.Lock()
	s.ln = ln
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.mu.Unlock()
	s.wg.Add(1)
	go s.accept()
	return nil
}

// Addr is the listening address (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening, closes every connection and waits for them.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		if !s.track(c) {
			c.Close()
			return
		}
		s.wg.Add(1)
		go s.serve(c)
	}
}

// track registers c for Close; false once Close has begun.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) serve(raw net.Conn) {
	defer s.wg.Done()
	defer func() {
		raw.Close()
		s.mu.Lock()
		delete(s.conns, raw)
		s.mu.Unlock()
	}()
	var c net.Conn = raw
	if s.Implicit {
		c = tls.Server(raw, s.TLSConfig)
	}
	newConn(s, c).run()
}

// box returns user's mailbox, creating it.
func (s *Server) box(user string) *mailbox {
	user = strings.ToLower(user)
	if s.boxes == nil {
		s.boxes = map[string]*mailbox{}
	}
	b := s.boxes[user]
	if b == nil {
		b = &mailbox{}
		s.boxes[user] = b
	}
	return b
}

// AddMessage appends a message (CRLF line endings expected) to user's
// maildrop.
func (s *Server) AddMessage(user string, msg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uid++
	b := s.box(user)
	b.msgs = append(b.msgs, &message{uid: fmt.Sprintf("uid%06d", s.uid), data: msg})
}

// Messages returns user's current maildrop, after committed deletions.
func (s *Server) Messages(user string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for _, m := range s.box(user).msgs {
		out = append(out, m.data)
	}
	return out
}

package smtptest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/oauthbridge/oauthbridge/internal/testcert"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// Message is one delivered message.
type Message struct {
	// User is who logged in to send it.
	User string
	// From is the MAIL FROM address.
	From string
	// To are the RCPT TO addresses.
	To []string
	// Data is the message as received, after dot-unstuffing.
	Data []byte
}

// Server is an OAuth-only submission server. Set the fields, then Start.
type Server struct {
	// Validate returns the user an access token belongs to. Required.
	Validate func(token string) (user string, ok bool)
	// TLS is the mode clients must use: upstream.Plain (the default),
	// upstream.StartTLS (AUTH only after STARTTLS) or upstream.Implicit.
	TLS upstream.TLSMode
	// Mechanisms offered; default XOAUTH2 only. OAUTHBEARER is supported.
	Mechanisms []string
	// MaxCommandLine > 0 refuses AUTH command lines longer than this
	// (without CRLF) with "500 5.5.2 Line too long", as Dovecot and Gmail
	// do above about 1 KiB. Only clear-text and implicit-TLS sessions are
	// checked: after STARTTLS the bytes pass unseen.
	MaxCommandLine int
	// MaxMessageBytes is advertised as SIZE; default 64 MiB.
	MaxMessageBytes int64
	// Domain is the server's name; default "upstream.test".
	Domain string

	// Addr is the listening address, set by Start.
	Addr string
	// Roots trust the server's certificate, set by Start.
	Roots *tls.Config

	srv      *smtp.Server
	ln       net.Listener
	mu       sync.Mutex
	messages []Message
	auths    []AuthCommand
	logins   int
}

// AuthCommand is what the server saw of one AUTH command line.
type AuthCommand struct {
	// Mechanism is the mechanism named, upper case.
	Mechanism string
	// Len is the line's length without CRLF.
	Len int
	// InitialResponse says the line carried the initial response.
	InitialResponse bool
}

// Start listens on 127.0.0.1 and serves until Close.
func (s *Server) Start() error {
	if s.Validate == nil {
		return errors.New("smtptest: Validate is required")
	}
	tlsCfg, pool, err := testcert.ServerConfig(testcert.Loopback...)
	if err != nil {
		return err
	}
	s.Roots = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("smtptest: listen: %w", err)
	}
	s.Addr = ln.Addr().String()
	s.srv = s.newSMTPServer(tlsCfg)
	if s.TLS == upstream.Implicit {
		ln = tls.NewListener(ln, tlsCfg)
	}
	s.ln = &watchListener{Listener: ln, srv: s}
	go s.srv.Serve(s.ln)
	return nil
}

func (s *Server) newSMTPServer(tlsCfg *tls.Config) *smtp.Server {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{srv: s}, nil
	}))
	srv.Domain = s.Domain
	if srv.Domain == "" {
		srv.Domain = "upstream.test"
	}
	srv.MaxMessageBytes = s.MaxMessageBytes
	if srv.MaxMessageBytes == 0 {
		srv.MaxMessageBytes = 64 << 20
	}
	// Long SASL response lines are fine (only command lines are limited).
	srv.MaxLineLength = 64 << 10
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if s.TLS == upstream.StartTLS {
		srv.TLSConfig = tlsCfg
	} else {
		// Plain is loopback only; with implicit TLS the connection is
		// encrypted, but go-smtp cannot see that through watchConn.
		srv.AllowInsecureAuth = true
	}
	return srv
}

// Endpoint is how oauthbridge reaches this server.
func (s *Server) Endpoint() upstream.Endpoint {
	mode := s.TLS
	if mode == "" {
		mode = upstream.Plain
	}
	return upstream.Endpoint{Addr: s.Addr, TLS: mode, TLSConfig: s.Roots}
}

// Close stops the server and drops its connections.
func (s *Server) Close() error {
	return s.srv.Close()
}

// Messages returns the messages delivered so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// AuthCommands returns the AUTH command lines seen so far.
func (s *Server) AuthCommands() []AuthCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AuthCommand(nil), s.auths...)
}

// Logins counts successful logins.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

func (s *Server) mechanisms() []string {
	if len(s.Mechanisms) == 0 {
		return []string{"XOAUTH2"}
	}
	return s.Mechanisms
}

// session is one client's session; only a logged-in user may send.
type session struct {
	srv  *Server
	user string
	from string
	to   []string
}

func (ss *session) AuthMechanisms() []string { return ss.srv.mechanisms() }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	success := func(user string) {
		ss.user = user
		ss.srv.mu.Lock()
		ss.srv.logins++
		ss.srv.mu.Unlock()
	}
	for _, m := range ss.srv.mechanisms() {
		if !strings.EqualFold(m, mech) {
			continue
		}
		switch strings.ToUpper(mech) {
		case "XOAUTH2":
			return &XOAuth2Server{Validate: ss.srv.Validate, Success: success}, nil
		case sasl.OAuthBearer:
			return newBearerServer(ss.srv.Validate, success), nil
		}
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if ss.user == "" {
		return smtp.ErrAuthRequired
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.srv.mu.Lock()
	defer ss.srv.mu.Unlock()
	ss.srv.messages = append(ss.srv.messages, Message{User: ss.user, From: ss.from, To: ss.to, Data: b})
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

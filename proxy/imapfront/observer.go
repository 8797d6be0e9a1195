package imapfront

import (
	"time"

	"github.com/oauthbridge/oauthbridge/proxy"
)

// Observer hears how logins end, for metrics and the admin's view of
// who is logged in. Both calls run on the session's goroutine, so an
// Observer may read s; they must be quick.
type Observer interface {
	// LoginDone is called once per login attempt with its error (nil:
	// success, and s.Account is then the canonical account).
	LoginDone(s *proxy.Session, err error)
	// UpstreamDone is called after each upstream login (connect, TLS,
	// greeting, AUTHENTICATE) with its duration and error.
	UpstreamDone(s *proxy.Session, d time.Duration, err error)
}

func (srv *Server) loginDone(s *proxy.Session, err error) {
	if srv.Observer != nil {
		srv.Observer.LoginDone(s, err)
	}
}

func (srv *Server) upstreamDone(s *proxy.Session, start time.Time, err error) {
	if srv.Observer != nil {
		srv.Observer.UpstreamDone(s, time.Since(start), err)
	}
}

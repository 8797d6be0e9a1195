package listener

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/proxy"
)

// DefaultHandshakeTimeout bounds the TLS handshake of an implicit-TLS
// connection when Server.HandshakeTimeout is zero.
const DefaultHandshakeTimeout = 30 * time.Second

// refuseTimeout bounds writing the refusal line to a client over the limit.
const refuseTimeout = time.Second

// Server accepts connections on one address and hands each to Handler.
// Set the fields, then call Listen and Serve (or ListenAndServe).
type Server struct {
	// Name names the listener in logs and sessions ("imap", "imaps", ...).
	Name string
	// Addr is the address to listen on (host:port; port 0 picks one).
	Addr string
	// TLSConfig, when set, makes the listener implicit TLS: the handshake
	// completes (within HandshakeTimeout) before Handler sees the
	// connection.
	TLSConfig *tls.Config
	// HandshakeTimeout bounds the implicit TLS handshake.
	HandshakeTimeout time.Duration
	// Handler serves each connection.
	Handler proxy.Handler
	// Limiter bounds open connections; nil means no bound.
	Limiter *Limiter
	// Sources bounds open connections per client address; nil means no
	// bound.
	Sources *SourceLimiter
	// PreLoginBytes bounds what a client may send before it has logged in
	// (see budgetConn for how the login is noticed); past it reads fail
	// with ErrPreLoginBudget. Zero means DefaultPreLoginBytes, negative no
	// bound.
	PreLoginBytes int64
	// Refuse, if set, writes a one-line, protocol-appropriate refusal to a
	// plain-text client over the limit before it is closed (for example
	// "* BYE too many connections"). Implicit-TLS clients are closed
	// without one: a handshake is too much work to spend on them.
	Refuse func(conn net.Conn)
	// Log is the base logger; nil discards.
	Log *zap.Logger

	mu       sync.Mutex
	ln       net.Listener
	ctx      context.Context
	cancel   context.CancelFunc
	conns    map[net.Conn]struct{}
	closing  bool
	wg       sync.WaitGroup
	idPrefix string
	nextID   uint64
}

// Listen binds the address. After it returns, BoundAddr is valid.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("listen.%s: %w", s.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ln = ln
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.conns = map[net.Conn]struct{}{}
	s.idPrefix = randomPrefix()
	if s.Log == nil {
		s.Log = zap.NewNop()
	}
	return nil
}

// BoundAddr returns the address actually bound (useful with port 0), or
// nil before Listen.
func (s *Server) BoundAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// ListenAndServe is Listen followed by Serve.
func (s *Server) ListenAndServe() error {
	if err := s.Listen(); err != nil {
		return err
	}
	return s.Serve()
}

// Serve accepts connections until Shutdown; it then returns nil. Other
// accept errors are retried with a growing pause (a full file table
// passes), never spun on.
func (s *Server) Serve() error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return errors.New("listener: Serve called before Listen")
	}
	var pause time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return nil
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			s.Log.Warn("accept failed", zap.String("listener", s.Name), zap.Error(err), zap.Duration("retry_in", pause))
			time.Sleep(pause)
			continue
		}
		pause = 0
		s.accept(conn)
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// accept admits or refuses one connection.
func (s *Server) accept(conn net.Conn) {
	if !s.Limiter.TryAcquire() {
		s.refuse(conn, "too many open connections")
		return
	}
	key, ok := s.Sources.TryAcquire(conn.RemoteAddr())
	if !ok {
		s.Limiter.Release()
		s.refuse(conn, "too many connections from this address")
		return
	}
	if !s.track(conn) {
		s.Sources.Release(key)
		s.Limiter.Release()
		conn.Close()
		return
	}
	go s.serveConn(conn, key)
}

// refuse tells a client over a limit and closes its connection.
func (s *Server) refuse(conn net.Conn, why string) {
	s.Log.Warn("connection refused: "+why,
		zap.String("listener", s.Name), zap.Stringer("remote", conn.RemoteAddr()), zap.Int("open", s.Limiter.InUse()))
	if s.Refuse != nil && s.TLSConfig == nil {
		conn.SetWriteDeadline(time.Now().Add(refuseTimeout))
		s.Refuse(conn)
	}
	conn.Close()
}

// track records conn so Shutdown can close it and wait for it; false when
// shutting down. The WaitGroup is counted under the same lock that
// Shutdown takes to set closing, so no Add can follow its Wait.
func (s *Server) track(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[conn] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(conn net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, conn)
}

// Shutdown stops accepting at once, waits for open connections to end
// until ctx is done, then cancels their sessions and closes them. It
// returns ctx's error if it had to cut connections short.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.ln == nil || s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	s.ln.Close()
	s.mu.Unlock()

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	s.cancel()
	s.closeAll()
	<-done
	return ctx.Err()
}

// closeAll closes every tracked connection, so handlers blocked in reads
// return even if they ignore their context.
func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

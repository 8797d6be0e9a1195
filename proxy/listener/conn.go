package listener

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/proxy"
)

// Results the listener itself sets when the handler did not.
const (
	ResultPanic        = "internal_error"
	ResultTLSHandshake = "tls_handshake_failed"
	ResultClosed       = "closed"
)

// serveConn runs one connection from accept to its summary line.
func (s *Server) serveConn(conn net.Conn) {
	defer s.wg.Done()
	defer s.Limiter.Release()
	defer s.untrack(conn)
	sess := s.newSession(conn)
	defer func() { sess.Log.Info("connection", sess.Summary()...) }()
	defer conn.Close()
	defer s.recoverPanic(sess)

	if s.TLSConfig != nil {
		tc, err := s.handshake(conn)
		if err != nil {
			sess.Result = ResultTLSHandshake
			sess.Log.Debug("tls handshake failed", zap.Error(err))
			return
		}
		conn, sess.TLS = tc, true
	}
	s.Handler.ServeConn(s.ctx, conn, sess)
	if sess.Result == "" {
		sess.Result = ResultClosed
	}
}

// newSession creates the connection's record and logger.
func (s *Server) newSession(conn net.Conn) *proxy.Session {
	id := s.newID()
	return &proxy.Session{
		ID:       id,
		Listener: s.Name,
		Remote:   conn.RemoteAddr(),
		Started:  time.Now(),
		Log: s.Log.With(zap.String("conn_id", id), zap.String("listener", s.Name),
			zap.Stringer("remote", conn.RemoteAddr())),
	}
}

// handshake completes implicit TLS within the handshake timeout.
func (s *Server) handshake(conn net.Conn) (*tls.Conn, error) {
	timeout := s.HandshakeTimeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	tc := tls.Server(conn, s.TLSConfig)
	conn.SetDeadline(time.Now().Add(timeout))
	if err := tc.HandshakeContext(s.ctx); err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return tc, nil
}

// recoverPanic keeps one broken connection from taking the process down.
// The panic value is not logged: it may be a string built from a
// password or token. Its type and the stack (which holds no string
// contents) are enough to find the bug.
func (s *Server) recoverPanic(sess *proxy.Session) {
	r := recover()
	if r == nil {
		return
	}
	sess.Result = ResultPanic
	sess.Log.Error("handler panic", zap.String("panic_type", fmt.Sprintf("%T", r)),
		zap.ByteString("stack", debug.Stack()))
}

// newID returns a short id unique within the process: a random prefix per
// listener (so two listeners never collide) and a counter.
func (s *Server) newID() string {
	s.mu.Lock()
	s.nextID++
	n := s.nextID
	s.mu.Unlock()
	return s.idPrefix + strconv.FormatUint(n, 36)
}

func randomPrefix() string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		panic("listener: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b) + "-"
}

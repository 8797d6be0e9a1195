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

// Results the listener sets when the client hit one of its limits.
const (
	ResultInputLimit = "input_limit"
)

// serveConn runs one connection from accept to its summary line.
func (s *Server) serveConn(raw net.Conn, source string) {
	defer s.wg.Done()
	defer s.Limiter.Release()
	defer s.Sources.Release(source)
	defer s.untrack(raw)
	sess := s.newSession(raw)
	defer func() { sess.Log.Info("connection", sess.Summary()...) }()
	defer raw.Close()
	defer s.recoverPanic(sess)

	conn := newBudgetConn(raw, s.PreLoginBytes)
	if s.TLSConfig != nil {
		tc, err := s.handshake(raw, conn)
		if err != nil {
			sess.Result = ResultTLSHandshake
			sess.Log.Debug("tls handshake failed", zap.Error(err))
			return
		}
		conn, sess.TLS = tc, true
	}
	s.Handler.ServeConn(s.ctx, conn, sess)
	s.noteLimits(conn, sess)
	if sess.Result == "" {
		sess.Result = ResultClosed
	}
}

// noteLimits records in the session a limit the client ran into, which
// the front end saw only as a failed read.
func (s *Server) noteLimits(conn net.Conn, sess *proxy.Session) {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	if overBudget(conn) {
		sess.Result = ResultInputLimit
		sess.Log.Info("client sent too much before login; closed")
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

// handshake completes implicit TLS over conn within the handshake
// timeout. The deadline is set on raw, beneath the byte budget, so that
// clearing it does not count as the end of the login phase.
func (s *Server) handshake(raw, conn net.Conn) (*tls.Conn, error) {
	timeout := s.HandshakeTimeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	tc := tls.Server(conn, s.TLSConfig)
	raw.SetDeadline(time.Now().Add(timeout))
	if err := tc.HandshakeContext(s.ctx); err != nil {
		return nil, err
	}
	raw.SetDeadline(time.Time{})
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

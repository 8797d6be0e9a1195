package proxy

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Session is one client connection's record, shared between the listener
// (which creates it and logs its summary when the handler returns) and the
// front end (which fills in who logged in and how it went).
type Session struct {
	// ID is unique within the process and appears on every log line of the
	// connection.
	ID string
	// Listener names the listener ("imap", "imaps", ...).
	Listener string
	// Remote is the client's address.
	Remote net.Addr
	// TLS reports whether the client connection is (now) encrypted.
	TLS bool
	// Log carries the connection's fields; front ends log through it.
	Log *zap.Logger
	// Started is when the connection was accepted.
	Started time.Time

	// Account is set once the user is known (as typed until login succeeds,
	// then canonical).
	Account string
	// Result is the outcome: "ok", "bad_credentials", "needs_consent", ...
	Result string

	// BytesIn and BytesOut count relayed bytes (client->upstream and
	// upstream->client), updated while relaying.
	BytesIn, BytesOut atomic.Int64
}

// Handler serves one accepted connection. The listener closes conn after
// ServeConn returns; ctx is cancelled when the server shuts down.
type Handler interface {
	ServeConn(ctx context.Context, conn net.Conn, s *Session)
}

// Summary returns the fields of the one log line that ends a connection.
func (s *Session) Summary() []zap.Field {
	return []zap.Field{
		zap.String("account", s.Account),
		zap.String("result", s.Result),
		zap.Duration("duration", time.Since(s.Started)),
		zap.Int64("bytes_in", s.BytesIn.Load()),
		zap.Int64("bytes_out", s.BytesOut.Load()),
		zap.Bool("tls", s.TLS),
	}
}

// Package upstream dials the real mail servers oauthbridge logs in to.
//
// Every connection has a deadline from its context, verifies the server's
// certificate (TLS 1.2 or later) unless it is an explicitly plain
// loopback endpoint used in tests, and reports failures as one of a few
// sentinel errors so that front ends can tell the user whether the server
// is unreachable or failed TLS verification.
package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// TLSMode says how TLS is established with the upstream server.
type TLSMode string

// The TLS modes.
const (
	// Implicit: TLS from the first byte (IMAPS 993, POP3S 995, SMTPS 465).
	Implicit TLSMode = "implicit"
	// StartTLS: plain text, then the protocol's STARTTLS/STLS command.
	StartTLS TLSMode = "starttls"
	// Plain: no TLS at all. Accepted by configuration only for loopback
	// addresses; exists for in-process tests.
	Plain TLSMode = "plain"
)

// Endpoint is one upstream server for one protocol.
type Endpoint struct {
	// Addr is host:port.
	Addr string
	// TLS is how TLS is established.
	TLS TLSMode
	// TLSConfig verifies the server; ServerName is filled from Addr when
	// empty. nil means the system roots.
	TLSConfig *tls.Config
}

// Sentinel errors for what front ends tell users.
var (
	// ErrUnreachable: connecting failed or timed out.
	ErrUnreachable = errors.New("mail server unreachable")
	// ErrTLS: the TLS handshake or certificate verification failed.
	ErrTLS = errors.New("mail server TLS verification failed")
	// ErrProtocol: the server said something unexpected.
	ErrProtocol = errors.New("unexpected reply from mail server")
	// ErrRejected: the server refused the access token.
	ErrRejected = errors.New("mail server refused the access token")
	// ErrUnavailable: the server reported a temporary failure.
	ErrUnavailable = errors.New("mail server temporarily unavailable")
)

// DefaultDialTimeout bounds connecting when the context has no deadline.
const DefaultDialTimeout = 15 * time.Second

// Dial connects to ep. For Implicit it also completes the TLS handshake;
// for StartTLS and Plain it returns the plain connection.
func Dial(ctx context.Context, ep Endpoint) (net.Conn, error) {
	switch ep.TLS {
	case Implicit, StartTLS, Plain:
	default:
		// An empty mode must never silently mean clear text.
		return nil, fmt.Errorf("dial %s: %w: unknown TLS mode %q", ep.Addr, ErrTLS, ep.TLS)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultDialTimeout)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", ep.Addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w: %v", ep.Addr, ErrUnreachable, err)
	}
	if ep.TLS != Implicit {
		return conn, nil
	}
	return Handshake(ctx, conn, ep)
}

// Handshake runs the client side of TLS on conn (after STARTTLS, or at once
// for Implicit) and verifies the server. conn is closed on failure.
func Handshake(ctx context.Context, conn net.Conn, ep Endpoint) (net.Conn, error) {
	tc := tls.Client(conn, ClientConfig(ep))
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("tls %s: %w: %v", ep.Addr, ErrUnreachable, err)
		}
		return nil, fmt.Errorf("tls %s: %w: %v", ep.Addr, ErrTLS, err)
	}
	return tc, nil
}

// ClientConfig returns the TLS configuration for ep: its own, or system
// roots, with ServerName from the address and at least TLS 1.2.
func ClientConfig(ep Endpoint) *tls.Config {
	var c *tls.Config
	if ep.TLSConfig != nil {
		c = ep.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		host, _, err := net.SplitHostPort(ep.Addr)
		if err != nil {
			host = ep.Addr
		}
		c.ServerName = host
	}
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	// Tokens go over this connection: verification is not configurable.
	c.InsecureSkipVerify = false
	return c
}

// RootsWithCA returns the system roots plus the PEM certificates in caFile.
func RootsWithCA(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read ca_file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate found", caFile)
	}
	return pool, nil
}

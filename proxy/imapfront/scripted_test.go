package imapfront

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// upStep is one step of a scripted upstream server: send bytes, expect
// one exact line (or one that check accepts), switch to TLS, or hang up.
type upStep struct {
	send, expect string
	check        func(line string) bool
	tls, hangUp  bool
}

func say(s string) upStep                              { return upStep{send: s} }
func sayLine(s string) upStep                          { return say(s + "\r\n") }
func hear(s string) upStep                             { return upStep{expect: s} }
func hearThat(desc string, f func(string) bool) upStep { return upStep{expect: desc, check: f} }
func upgradeTLS() upStep                               { return upStep{tls: true} }
func hangUpStep() upStep                               { return upStep{hangUp: true} }

// scripted runs the steps on a loopback listener for one connection and
// returns a plain endpoint for it. Unless told to hang up, it then keeps
// the connection open, dropping input, until the client closes.
func scripted(t *testing.T, tlsCfg *tls.Config, steps ...upStep) upstream.Endpoint {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer func() { conn.Close() }()
		conn.SetDeadline(time.Now().Add(ioTimeout))
		runScript(t, &conn, tlsCfg, steps)
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return upstream.Endpoint{Addr: ln.Addr().String(), TLS: upstream.Plain}
}

func runScript(t *testing.T, conn *net.Conn, tlsCfg *tls.Config, steps []upStep) {
	br := bufio.NewReader(*conn)
	for i, s := range steps {
		switch {
		case s.hangUp:
			return
		case s.tls:
			tc := tls.Server(*conn, tlsCfg)
			if err := tc.Handshake(); err != nil {
				return // the client reports its own failure
			}
			*conn, br = tc, bufio.NewReader(tc)
		case s.send != "":
			if _, err := io.WriteString(*conn, s.send); err != nil {
				t.Errorf("upstream step %d: %v", i, err)
				return
			}
		default:
			line, err := br.ReadString('\n')
			if err != nil {
				t.Errorf("upstream step %d: want %q, got error %v", i, s.expect, err)
				return
			}
			got := strings.TrimSuffix(line, "\r\n")
			if (s.check == nil && got != s.expect) || (s.check != nil && !s.check(got)) {
				t.Errorf("upstream step %d:\n got  %q\n want %q", i, got, s.expect)
				return
			}
		}
	}
	io.Copy(io.Discard, br)
}

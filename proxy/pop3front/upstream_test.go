package pop3front

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/pop3front/pop3test"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// peerStep is one exchange of a scripted upstream: the exact line it
// expects from the client (without CRLF; a trailing "*" matches any
// rest; emptyLine is an empty line; "" expects nothing), then the bytes it
// sends.
type peerStep struct{ expect, send string }

// emptyLine stands for an empty client line in a peerStep; hangUp as the
// bytes to send closes the connection instead.
const (
	emptyLine = "(empty line)"
	hangUp    = "(hang up)"
)

// scriptedPeer serves one connection on 127.0.0.1 by the script, then
// reads until the client closes. Mismatches arrive on the channel.
func scriptedPeer(t *testing.T, steps []peerStep) (string, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		errc <- playScript(c, steps)
	}()
	return ln.Addr().String(), errc
}

func playScript(c net.Conn, steps []peerStep) error {
	br := bufio.NewReader(c)
	for i, s := range steps {
		if s.expect != "" {
			line, err := br.ReadString('\n')
			line = strings.TrimSuffix(line, "\r\n")
			if err != nil || !lineMatches(line, s.expect) {
				return fmt.Errorf("step %d: got %q (%v), want %q", i, line, err, s.expect)
			}
		}
		if s.send == hangUp {
			return nil
		}
		if _, err := io.WriteString(c, s.send); err != nil {
			return err
		}
	}
	io.Copy(io.Discard, br)
	return nil
}

func lineMatches(line, want string) bool {
	if want == emptyLine {
		return line == ""
	}
	if prefix, ok := strings.CutSuffix(want, "*"); ok {
		return strings.HasPrefix(line, prefix)
	}
	return line == want
}

// xo is the XOAUTH2 initial response for testUser with token tok.
func xo(tok string) string { return b64("user=" + testUser + "\x01auth=Bearer " + tok + "\x01\x01") }

var challenge401 = b64(`{"status":"401","schemes":"bearer","scope":"https://mail.example/"}`)

const capaXO = "+OK\r\nUSER\r\nSASL PLAIN XOAUTH2\r\n.\r\n"

func TestLoginUpstreamScripted(t *testing.T) {
	long := strings.Repeat("L", 300)
	cases := []struct {
		name  string
		token string
		mech  string
		style IRStyle
		steps []peerStep
		want  error  // nil: success
		code  string // ReplyError.Code
		text  string // ReplyError.Text
	}{
		{name: "initial response", steps: []peerStep{
			{"", "+OK ready\r\n"}, {"CAPA", capaXO}, {"AUTH XOAUTH2 " + xo(goodToken), "+OK welcome\r\n"}}},
		{name: "bare plus continuation", style: IRContinuation, steps: []peerStep{
			{"", "+OK ready\r\n"}, {"CAPA", capaXO}, {"AUTH XOAUTH2", "+\r\n"}, {xo(goodToken), "+OK\r\n"}}},
		{name: "plus space continuation", style: IRContinuation, steps: []peerStep{
			{"", "+OK ready\r\n"}, {"CAPA", capaXO}, {"AUTH XOAUTH2", "+ \r\n"}, {xo(goodToken), "+OK\r\n"}}},
		{name: "auto with a long token continues", token: long, steps: []peerStep{
			{"", "+OK\r\n"}, {"CAPA", capaXO}, {"AUTH XOAUTH2", "+ \r\n"}, {xo(long), "+OK\r\n"}}},
		{name: "forced initial response with a long token", token: long, style: IRInitialResponse, steps: []peerStep{
			{"", "+OK\r\n"}, {"CAPA", capaXO}, {"AUTH XOAUTH2 " + xo(long), "+OK\r\n"}}},
		{name: "no CAPA", steps: []peerStep{
			{"", "+OK\r\n"}, {"CAPA", "-ERR Unknown command\r\n"}, {"AUTH XOAUTH2 " + xo(goodToken), "+OK\r\n"}}},
		{name: "error challenge then AUTH code", want: upstream.ErrRejected, code: "AUTH", text: "Authentication failed.",
			steps: []peerStep{{"", "+OK\r\n"}, {"CAPA", capaXO}, {"AUTH XOAUTH2 " + xo(goodToken), "+ " + challenge401 + "\r\n"},
				{emptyLine, "-ERR [AUTH] Authentication failed.\r\n"}}},
		{name: "error challenge then bare ERR", want: upstream.ErrRejected, text: "no",
			steps: []peerStep{{"", "+OK\r\n"}, {"CAPA", capaXO}, {"AUTH XOAUTH2 " + xo(goodToken), "+ " + challenge401 + "\r\n"},
				{emptyLine, "-ERR no\r\n"}}},
		{name: "throttled", want: upstream.ErrUnavailable, code: "SYS/TEMP", text: "Request is throttled. Suggested Backoff Time: 2000 milliseconds",
			steps: []peerStep{{"", "+OK\r\n"}, {"CAPA", capaXO},
				{"AUTH XOAUTH2 " + xo(goodToken), "-ERR [SYS/TEMP] Request is throttled. Suggested Backoff Time: 2000 milliseconds\r\n"}}},
		{name: "in use", want: upstream.ErrUnavailable, code: "IN-USE",
			steps: []peerStep{{"", "+OK\r\n"}, {"CAPA", capaXO}, {"AUTH XOAUTH2 " + xo(goodToken), "-ERR [IN-USE] locked\r\n"}}},
		{name: "other refusal", want: upstream.ErrProtocol, text: "Unknown command",
			steps: []peerStep{{"", "+OK\r\n"}, {"CAPA", capaXO}, {"AUTH XOAUTH2 " + xo(goodToken), "-ERR Unknown command\r\n"}}},
		{name: "greeting refused", want: upstream.ErrUnavailable, code: "SYS/TEMP",
			steps: []peerStep{{"", "-ERR [SYS/TEMP] too busy\r\n"}}},
		{name: "no XOAUTH2 offered", want: upstream.ErrProtocol,
			steps: []peerStep{{"", "+OK\r\n"}, {"CAPA", "+OK\r\nSASL PLAIN\r\n.\r\n"}}},
		{name: "hang up", want: upstream.ErrUnavailable, steps: []peerStep{
			{"", "+OK\r\n"}, {"CAPA", capaXO}, {"AUTH XOAUTH2 " + xo(goodToken), hangUp}}},
		{name: "not POP3", want: upstream.ErrProtocol, steps: []peerStep{{"", "* OK IMAP4rev1\r\n"}}},
		{name: "reply too long", want: upstream.ErrProtocol, steps: []peerStep{{"", "+OK " + strings.Repeat("x", 5000) + "\r\n"}}},
		{name: "too many challenges", want: upstream.ErrProtocol, steps: []peerStep{
			{"", "+OK\r\n"}, {"CAPA", capaXO}, {"AUTH XOAUTH2 " + xo(goodToken), "+ \r\n"}, {xo(goodToken), "+ \r\n"},
			{xo(goodToken), "+ \r\n"}}},
		{name: "echoed credentials withheld", want: upstream.ErrProtocol, text: "(text withheld: it repeats the credentials)",
			steps: []peerStep{{"", "+OK\r\n"}, {"CAPA", capaXO},
				{"AUTH XOAUTH2 " + xo(goodToken), "-ERR bad command AUTH XOAUTH2 " + xo(goodToken)[:40] + "\r\n"}}},
		{name: "token echoed withheld", want: upstream.ErrProtocol, text: "(text withheld: it repeats the credentials)",
			steps: []peerStep{{"", "+OK\r\n"}, {"CAPA", capaXO},
				{"AUTH XOAUTH2 " + xo(goodToken), "-ERR invalid token " + goodToken + "\r\n"}}},
		{name: "oauthbearer error challenge", mech: "OAUTHBEARER", want: upstream.ErrRejected, code: "AUTH",
			steps: []peerStep{{"", "+OK\r\n"}, {"CAPA", "+OK\r\nSASL OAUTHBEARER\r\n.\r\n"},
				{"AUTH OAUTHBEARER " + b64("n,a=" + testUser + ",\x01host=127.0.0.1\x01")[:40] + "*", "+ " + challenge401 + "\r\n"},
				{"AQ==", "-ERR [AUTH] Authentication failed.\r\n"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, errc := scriptedPeer(t, tc.steps)
			g := grant(addr, tc.token, tc.mech)
			conn, _, err := LoginUpstream(context.Background(), g, UpstreamOptions{IRStyle: tc.style})
			checkUpstreamResult(t, err, tc.want, tc.code, tc.text)
			if conn != nil {
				conn.Close()
			}
			if perr := <-errc; perr != nil {
				t.Errorf("peer: %v", perr)
			}
		})
	}
}

func grant(addr, token, mech string) *login.Grant {
	if token == "" {
		token = goodToken
	}
	return &login.Grant{Account: testUser, UpstreamUser: testUser, AccessToken: token, Mechanism: mech,
		Upstream: plainEndpoint(addr)}
}

func checkUpstreamResult(t *testing.T, err, want error, code, text string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	if strings.Contains(err.Error(), goodToken) || strings.Contains(err.Error(), xo(goodToken)[:20]) {
		t.Errorf("error text leaks the token: %v", err)
	}
	var re *ReplyError
	if (code != "" || text != "") && !errors.As(err, &re) {
		t.Fatalf("no ReplyError in %v", err)
	}
	if re != nil && (re.Code != code || (text != "" && re.Text != text)) {
		t.Errorf("code %q text %q, want %q %q", re.Code, re.Text, code, text)
	}
}

// Bytes the server sends after its final +OK belong to the relay.
func TestLoginUpstreamKeepsReadAhead(t *testing.T) {
	addr, errc := scriptedPeer(t, []peerStep{
		{"", "+OK\r\n"}, {"CAPA", capaXO}, {"AUTH XOAUTH2 " + xo(goodToken), "+OK in\r\n+OK extra\r\n"}})
	conn, r, err := LoginUpstream(context.Background(), grant(addr, "", ""), UpstreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	line, err := r.ReadString('\n')
	if line != "+OK extra\r\n" || err != nil {
		t.Errorf("read ahead %q %v", line, err)
	}
	conn.Close()
	<-errc
}

func TestLoginUpstreamSilentServer(t *testing.T) {
	addr, errc := scriptedPeer(t, []peerStep{{"", "+OK\r\n"}})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, _, err := LoginUpstream(ctx, grant(addr, "", ""), UpstreamOptions{})
	if !errors.Is(err, upstream.ErrUnreachable) {
		t.Errorf("error %v, want unreachable", err)
	}
	<-errc
}

func TestLoginUpstreamSTLS(t *testing.T) {
	t.Run("injection after +OK", func(t *testing.T) {
		addr, errc := scriptedPeer(t, []peerStep{{"", "+OK\r\n"}, {"STLS", "+OK go\r\n+OK injected\r\n"}})
		g := grant(addr, "", "")
		g.Upstream.TLS = upstream.StartTLS
		_, _, err := LoginUpstream(context.Background(), g, UpstreamOptions{})
		checkUpstreamResult(t, err, upstream.ErrProtocol, "", "")
		<-errc
	})
	t.Run("refused", func(t *testing.T) {
		addr, errc := scriptedPeer(t, []peerStep{{"", "+OK\r\n"}, {"STLS", "-ERR not here\r\n"}})
		g := grant(addr, "", "")
		g.Upstream.TLS = upstream.StartTLS
		_, _, err := LoginUpstream(context.Background(), g, UpstreamOptions{})
		checkUpstreamResult(t, err, upstream.ErrTLS, "", "not here")
		<-errc
	})
	t.Run("real TLS", func(t *testing.T) {
		cfg, pool := selfSigned(t)
		srv := startPOP3(t, func(s *pop3test.Server) { s.TLSConfig = cfg })
		g := grant(srv.Addr(), "", "")
		g.Upstream = upstream.Endpoint{Addr: srv.Addr(), TLS: upstream.StartTLS, TLSConfig: &tls.Config{RootCAs: pool}}
		conn, r, err := LoginUpstream(context.Background(), g, UpstreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, ok := conn.(*tls.Conn); !ok {
			t.Errorf("conn is %T, want *tls.Conn", conn)
		}
		io.WriteString(conn, "STAT\r\n")
		if line, _ := r.ReadString('\n'); line != "+OK 1 5\r\n" {
			t.Errorf("STAT: %q", line)
		}
	})
}

func TestLoginUpstreamUnreachable(t *testing.T) {
	_, _, err := LoginUpstream(context.Background(), grant(closedPort(t), "", ""), UpstreamOptions{})
	checkUpstreamResult(t, err, upstream.ErrUnreachable, "", "")
}

func TestParseIRStyle(t *testing.T) {
	for in, want := range map[string]IRStyle{"": IRAuto, "AUTO": IRAuto, "initial-response": IRInitialResponse,
		"Continuation": IRContinuation} {
		if got, err := ParseIRStyle(in); got != want || err != nil {
			t.Errorf("ParseIRStyle(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseIRStyle("sometimes"); err == nil {
		t.Error("ParseIRStyle accepted nonsense")
	}
}

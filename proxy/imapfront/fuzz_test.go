package imapfront

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/imapfront/imaptest"
)

// Real client lines, literals inlined as Parse receives them.
var parseSeeds = []string{
	"1 capability",
	"56 authenticate PLAIN",
	"ABCD1 LOGIN alice \"pa\\\"ss\\\\\"",
	"a001 login {5}\r\nalice {4}\r\npass",
	"a001 LOGIN {5+}\r\nalice \"x\"",
	"t1 AUTHENTICATE PLAIN AGFsaWNlAHB3",
	"t1 AUTHENTICATE PLAIN =",
	"a ID (\"name\" \"Thunderbird\" \"version\" \"153.0\")",
	"a ID NIL",
	"5 select \"INBOX\"",
	"7 login \"alice\" \"gr\xfcn\"",
	"a LOGIN {99999999999}\r\n",
	"x STARTTLS",
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		cmd, err := Parse(raw)
		if cmd == nil {
			t.Fatal("nil command")
		}
		if err == nil && (cmd.Tag == "" || cmd.Name == "") {
			t.Fatalf("accepted without tag or name: %q", raw)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\r\n") {
			t.Fatalf("error text would break a response line: %q", err)
		}
		if err == nil && cmd.Name == "LOGIN" && len(cmd.Args) != 2 {
			t.Fatalf("LOGIN with %d args", len(cmd.Args))
		}
		trailingLiteral(raw)
	})
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{
		"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready",
		"+ eyJzdGF0dXMiOiI0MDEifQ==",
		"+",
		"ob1 NO [AUTHENTICATIONFAILED] Authentication failed.",
		"ob2 OK [CAPABILITY IMAP4rev1 IDLE] Logged in",
		"* CAPABILITY IMAP4rev1 IDLE",
		"* BYE",
		"* ID (\"name\" {5}",
		"[",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r := parseResponse(line)
		caps, _ := r.capabilities()
		for _, c := range caps {
			if c == "" || strings.ContainsAny(c, " \r\n") {
				t.Fatalf("bad capability %q from %q", c, line)
			}
		}
	})
}

// FuzzPreauth feeds arbitrary client bytes to a whole connection: it
// must end (input runs out, or a limit is hit) without a panic, and
// every line it sends must be a well-formed response.
func FuzzPreauth(f *testing.F) {
	for _, s := range []string{
		"a1 CAPABILITY\r\na2 LOGIN alice pw\r\na3 SELECT INBOX\r\n",
		"1 LOGIN {5}\r\nalice {2+}\r\npw\r\n",
		"1 AUTHENTICATE PLAIN\r\nAGFsaWNlAHB3\r\n",
		"1 AUTHENTICATE LOGIN\r\nYWxpY2U=\r\n*\r\n",
		"1 STARTTLS\r\n2 NOOP\r\n",
		"1 ID (\"name\" {3+}\r\nabc)\r\n2 LOGOUT\r\n",
		"* BAD\r\n\x00\xff\r\n",
	} {
		f.Add([]byte(s))
	}
	cert, _, err := imaptest.SelfSigned("127.0.0.1")
	if err != nil {
		f.Fatal(err)
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	f.Fuzz(func(t *testing.T, in []byte) {
		srv := &Server{Auth: &fakeAuth{}, TLSConfig: tlsConfig, MaxLine: 256, MaxLiteral: 256}
		conn := &scriptConn{Reader: bytes.NewReader(in)}
		srv.ServeConn(context.Background(), conn, &proxy.Session{Started: time.Now()})
		checkResponses(t, conn.out.Bytes())
	})
}

// scriptConn is a connection whose input is fixed and whose output is
// recorded: the dialogue runs without goroutines or timing, so a fuzz
// run is fast and repeatable. Reading past the input is end of stream.
type scriptConn struct {
	*bytes.Reader
	out bytes.Buffer
}

func (c *scriptConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *scriptConn) Close() error                { return nil }
func (c *scriptConn) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 143} }
func (c *scriptConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *scriptConn) SetDeadline(t time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(t time.Time) error { return nil }

// checkResponses checks that out is made of CRLF lines that start as
// IMAP responses do.
func checkResponses(t *testing.T, out []byte) {
	lines := strings.Split(string(out), "\n")
	if last := lines[len(lines)-1]; last != "" {
		t.Fatalf("output does not end with a line end: %q", last)
	}
	for _, line := range lines[:len(lines)-1] {
		line, ok := strings.CutSuffix(line, "\r")
		if !ok {
			t.Fatalf("line without CRLF: %q", line)
		}
		if strings.ContainsAny(line, "\r\x00") {
			t.Fatalf("control byte in response %q", line)
		}
		tag, rest, ok := strings.Cut(line, " ")
		if !ok || tag == "" || (tag != "+" && rest == "") {
			t.Fatalf("malformed response %q", line)
		}
	}
}

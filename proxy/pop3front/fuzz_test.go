package pop3front

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that any command line parses without panicking and
// that an accepted keyword is upper case and well formed.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"USER alice@example.com", "pass pa ss", "AUTH PLAIN AGEAYg==", "CAPA", "",
		"STLS ", " QUIT", "APOP a b", "US\x00ER", "RETR 1", "PASS \xfc\xe4"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		cmd, err := parseCommand(line)
		if err != nil {
			return
		}
		if cmd.Verb != strings.ToUpper(cmd.Verb) || !validVerb(cmd.Verb) {
			t.Errorf("verb %q accepted", cmd.Verb)
		}
		if strings.ContainsAny(cmd.Arg, "\r\n\x00") {
			t.Errorf("arg %q holds control characters", cmd.Arg)
		}
	})
}

// FuzzPreauth feeds arbitrary client bytes to the pre-login dialogue: it
// must answer only with well-formed lines and end when the input does.
func FuzzPreauth(f *testing.F) {
	for _, s := range []string{
		"CAPA\r\nQUIT\r\n",
		"USER a\r\nPASS b\r\nSTAT\r\n",
		"AUTH PLAIN\r\n*\r\nAUTH LOGIN\r\nYQ==\r\nYg==\r\n",
		"AUTH PLAIN AGEAYg==\r\nAUTH\r\n",
		"STLS\r\nUSER x\r\n",
		"APOP x y\r\n\r\n\x00\r\nXX\n",
		strings.Repeat("A", 3000) + "\r\nCAPA\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		srv := newServer()
		srv.MaxLine = 512
		conn := &scriptConn{in: bytes.NewReader(input)}
		srv.ServeConn(context.Background(), conn, newSession(srv))
		checkReplyLines(t, conn.out.Bytes())
	})
}

// scriptConn is a net.Conn that reads a fixed input, then EOF, and
// records what is written: fuzzing without goroutines or sleeps.
type scriptConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error)       { return c.in.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// checkReplyLines verifies every line the server wrote ends in CRLF and
// none is empty.
func checkReplyLines(t *testing.T, out []byte) {
	if len(out) > 0 && !bytes.HasSuffix(out, []byte("\r\n")) {
		t.Fatalf("output does not end in CRLF: %q", out)
	}
	for _, l := range bytes.Split(bytes.TrimSuffix(out, []byte("\r\n")), []byte("\r\n")) {
		if len(l) == 0 || bytes.ContainsAny(l, "\r\n\x00") {
			t.Fatalf("bad reply line %q in %q", l, out)
		}
	}
}

// FuzzReply checks the upstream reply parser on arbitrary lines.
func FuzzReply(f *testing.F) {
	for _, s := range []string{"+OK", "+OK ready", "-ERR [AUTH] no", "-ERR [SYS/TEMP] later", "+ ", "+",
		"+ eyJzdGF0dXMiOiI0MDEifQ==", "-ERR [", "-ERR []", "* OK", "-err [in-use] x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := parseReply(line)
		if err != nil {
			return
		}
		if len(r.code) > maxCodeLen || r.code != strings.ToUpper(r.code) {
			t.Errorf("code %q", r.code)
		}
		if r.kind != kindErr && r.code != "" {
			t.Errorf("code on a non-error reply")
		}
		classify(r.code, false, nil)
	})
}

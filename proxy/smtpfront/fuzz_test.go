package smtpfront

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/lineio"
	"github.com/oauthbridge/oauthbridge/proxy/login"
)

// Seeds beyond the committed corpus in testdata/fuzz.
var preauthSeeds = []string{
	"EHLO x\r\nAUTH PLAIN " + plainIR(testUser, testPassword) + "\r\nMAIL FROM:<a>\r\n",
	"EHLO x\r\nAUTH LOGIN\r\n" + b64("consent") + "\r\n" + b64("pw") + "\r\nQUIT\r\n",
	"EHLO x\r\nSTARTTLS\r\n\x16\x03\x01\x00\x05hello",
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"EHLO client.example", "MAIL FROM:<a@b> SIZE=10", "auth plain =", "", " X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		verb, arg, err := parseCommand(line)
		if err == nil {
			if verb == "" || len(verb) > maxVerb || verb != strings.ToUpper(verb) || strings.ContainsAny(verb, " \t") {
				t.Fatalf("verb %q from %q", verb, line)
			}
			if arg != strings.Trim(arg, " \t") {
				t.Fatalf("arg %q not trimmed", arg)
			}
		}
		if name, ok := parseDomain(line); ok && strings.IndexFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			t.Fatalf("domain %q has blanks or controls", name)
		}
	})
}

// replyLine is what every byte the front end writes before TLS must look like.
var replyLine = regexp.MustCompile(`^[2-5][0-9][0-9][ -][^\r\n]*\r\n$`)

// FuzzPreauth feeds arbitrary client bytes to the whole pre-login
// dialogue: it must end, never panic, and answer only in well-formed
// reply lines that never echo the password.
func FuzzPreauth(f *testing.F) {
	for _, s := range preauthSeeds {
		f.Add([]byte(s))
	}
	tlsCfg, _ := testTLS(f)
	f.Fuzz(func(t *testing.T, input []byte) {
		srv := &Server{Auth: scriptedOutcomes{}, Hostname: testHost, MaxCommands: 20,
			TLSConfig: tlsCfg, MaxMessageSize: 1000000}
		conn := &bytesConn{in: bytes.NewReader(input)}
		srv.ServeConn(context.Background(), conn, &proxy.Session{ID: "fuzz", Started: time.Now()})
		out := conn.out.String()
		if i := strings.Index(out, "220 2.0.0 Ready to start TLS\r\n"); i >= 0 {
			out = out[:i] // then come TLS records
		}
		r := bufio.NewReader(strings.NewReader(out))
		for {
			l, err := r.ReadString('\n')
			if err == io.EOF && l == "" {
				break
			}
			if !replyLine.MatchString(l) {
				t.Fatalf("malformed reply line %q", l)
			}
		}
		if strings.Contains(out, testPassword) {
			t.Fatal("password echoed")
		}
	})
}

// FuzzReply feeds arbitrary upstream bytes to the reply reader.
func FuzzReply(f *testing.F) {
	for _, s := range []string{peerEHLO, "220-a\r\n220 b\r\n", "334 \r\n", "535 5.7.8 x\r\n", "250-a\r\n251 b\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lr := lineio.New(bufio.NewReaderSize(bytes.NewReader(data), 1024), 1000)
		r, err := readReply(lr)
		if err != nil {
			return
		}
		if r.code < 200 || r.code > 599 || len(r.lines) == 0 || len(r.lines) > maxReplyLines {
			t.Fatalf("reply %+v", r)
		}
		if txt := r.text(); strings.ContainsAny(txt, "\r\n") || len(txt) > maxQuoted+3 {
			t.Fatalf("text %q", txt)
		}
		parseEHLO(r.lines)
	})
}

// scriptedOutcomes answers every login with a failure chosen by the user
// name, so the fuzzer reaches every reply without any network.
type scriptedOutcomes struct{}

func (scriptedOutcomes) Authenticate(_ context.Context, req login.Request) (*login.Grant, error) {
	switch req.Username {
	case "consent":
		return nil, &login.ConsentError{Message: "visit https://bridge.example/consent\r\n250 forged"}
	case "throttle":
		return nil, login.ErrThrottled
	case "temp":
		return nil, login.ErrTemporary
	}
	return nil, login.ErrBadCredentials
}

func (scriptedOutcomes) Rejected(*login.Grant) {}

// bytesConn is a net.Conn that reads a fixed input and records output.
type bytesConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *bytesConn) Read(p []byte) (int, error)       { return c.in.Read(p) }
func (c *bytesConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *bytesConn) Close() error                     { return nil }
func (c *bytesConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *bytesConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *bytesConn) SetDeadline(time.Time) error      { return nil }
func (c *bytesConn) SetReadDeadline(time.Time) error  { return nil }
func (c *bytesConn) SetWriteDeadline(time.Time) error { return nil }

package pop3front

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/oauthbridge/oauthbridge/proxy/pop3front/pop3test"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// bigMessage builds a message of about size bytes whose lines exercise
// dot-stuffing: lone dots, leading dots, double dots, empty lines, and
// lines up to RFC 5322's 998 characters.
func bigMessage(size int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	b.WriteString("From: a@example.com\r\nTo: b@example.com\r\nSubject: big\r\n\r\n")
	specials := []string{".", "..", ".hidden", "...x", "", " .", "From x"}
	for b.Len() < size {
		if rng.IntN(5) == 0 {
			b.WriteString(specials[rng.IntN(len(specials))])
		} else {
			n := rng.IntN(998)
			for i := 0; i < n; i++ {
				b.WriteByte(byte(' ' + rng.IntN(95)))
			}
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// TestEndToEnd runs a real TCP client through the front end to pop3test
// over TLS, with each upstream AUTH style, and checks the mail arrives
// byte for byte and deletions commit.
func TestEndToEnd(t *testing.T) {
	upCfg, upPool := selfSigned(t)
	feCfg, fePool := selfSigned(t)
	big := bigMessage(3 << 20)
	cases := []struct {
		name      string
		upTLS     upstream.TLSMode
		srvStyle  string
		irStyle   IRStyle
		tokens    []string
		clientTLS bool
	}{
		{"implicit TLS, initial response", upstream.Implicit, pop3test.StyleInitialResponse, IRAuto, nil, false},
		{"STLS, continuation, refused token retried", upstream.StartTLS, pop3test.StyleContinuation, IRContinuation,
			[]string{badToken, goodToken}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := &pop3test.Server{Validate: validate, TLSConfig: upCfg, Implicit: tc.upTLS == upstream.Implicit, Style: tc.srvStyle}
			for _, m := range [][]byte{[]byte("Subject: one\r\n\r\n.\r\n"), big, []byte("Subject: three\r\n\r\nbye\r\n")} {
				up.AddMessage(testUser, m)
			}
			if err := up.Start(); err != nil {
				t.Fatal(err)
			}
			defer up.Close()
			ep := upstream.Endpoint{Addr: up.Addr(), TLS: tc.upTLS, TLSConfig: &tls.Config{RootCAs: upPool}}
			auth := &fakeAuth{upstream: ep, tokens: tc.tokens}
			log, logs := newLogger()
			fe := &Server{Auth: auth, TLSConfig: feCfg, RequireTLS: tc.clientTLS, IRStyle: tc.irStyle, Log: log}
			p := dialPOP(t, startFrontend(t, fe))
			p.line() // greeting
			if tc.clientTLS {
				p.startTLS(fePool)
			}
			p.cmd("USER "+testUser, "+OK")
			p.cmd("PASS "+testPassword, "+OK Logged in")
			checkMaildrop(t, p, big)
			if got := up.Messages(testUser); len(got) != 2 || !bytes.Equal(got[0], big) {
				t.Errorf("after DELE 1 and QUIT: %d messages left", len(got))
			}
			if len(auth.rejected) != len(tc.tokens)/2 {
				t.Errorf("rejected %d tokens", len(auth.rejected))
			}
			assertNoSecrets(t, logs)
		})
	}
}

// checkMaildrop runs the TRANSACTION state through the relay.
func checkMaildrop(t *testing.T, p *popClient, big []byte) {
	t.Helper()
	sizes := []int{len("Subject: one\r\n\r\n.\r\n"), len(big), len("Subject: three\r\n\r\nbye\r\n")}
	p.cmd("STAT", fmt.Sprintf("+OK 3 %d\r\n", sizes[0]+sizes[1]+sizes[2]))
	p.cmd("LIST", "+OK")
	if got, want := string(p.body()), fmt.Sprintf("1 %d\r\n2 %d\r\n3 %d\r\n", sizes[0], sizes[1], sizes[2]); got != want {
		t.Errorf("LIST %q, want %q", got, want)
	}
	p.cmd("UIDL", "+OK")
	if uidl := strings.Fields(string(p.body())); len(uidl) != 6 || uidl[1] == uidl[3] {
		t.Errorf("UIDL %q", uidl)
	}
	p.cmd("RETR 2", fmt.Sprintf("+OK %d octets", len(big)))
	if got := p.body(); !bytes.Equal(got, big) {
		t.Errorf("RETR 2: %d bytes differ from the %d sent", len(got), len(big))
	}
	p.cmd("RETR 1", "+OK")
	if got := string(p.body()); got != "Subject: one\r\n\r\n.\r\n" {
		t.Errorf("RETR 1: %q", got)
	}
	p.cmd("DELE 1", "+OK")
	p.cmd("RETR 1", "-ERR")
	p.cmd("QUIT", "+OK Bye")
}

func TestEndToEndRefusedTwice(t *testing.T) {
	upCfg, upPool := selfSigned(t)
	up := startPOP3(t, func(s *pop3test.Server) { s.TLSConfig, s.Implicit = upCfg, true })
	auth := &fakeAuth{upstream: implicitEndpoint(up.Addr(), upPool), tokens: []string{badToken}}
	p := dialPOP(t, startFrontend(t, &Server{Auth: auth}))
	p.line()
	p.cmd("AUTH PLAIN "+b64("\x00"+testUser+"\x00"+testPassword), "-ERR [AUTH] Mail server refused the access token")
	p.cmd("QUIT", "+OK")
	if len(auth.rejected) != 2 {
		t.Errorf("rejected %d times", len(auth.rejected))
	}
}

func TestEndToEndOAuthBearer(t *testing.T) {
	up := startPOP3(t, func(s *pop3test.Server) { s.OAuthBearer = true })
	auth := &fakeAuth{upstream: plainEndpoint(up.Addr()), mech: "OAUTHBEARER", tokens: []string{badToken, goodToken}}
	p := dialPOP(t, startFrontend(t, &Server{Auth: auth}))
	p.line()
	p.cmd("USER "+testUser, "+OK")
	p.cmd("PASS "+testPassword, "+OK Logged in")
	p.cmd("STAT", "+OK 1 5")
	p.cmd("QUIT", "+OK Bye")
	if len(auth.rejected) != 1 {
		t.Errorf("rejected %d times", len(auth.rejected))
	}
}

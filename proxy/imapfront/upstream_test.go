package imapfront

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

const testToken = "ya29.SECRET-token"

func xoauth2IR(user string) string {
	return b64("user=" + user + "\x01auth=Bearer " + testToken + "\x01\x01")
}

func testGrant(ep upstream.Endpoint) *login.Grant {
	return &login.Grant{Account: "alice@example.com", UpstreamUser: "alice@example.com",
		AccessToken: testToken, Mechanism: "XOAUTH2", Upstream: ep}
}

func loginUp(t *testing.T, g *login.Grant) (*UpstreamConn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	up, err := LoginUpstream(ctx, g)
	if err != nil && strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error text carries the token: %v", err)
	}
	if up != nil {
		t.Cleanup(func() { up.Conn.Close() })
	}
	return up, err
}

var (
	errChallenge = b64(`{"status":"401","schemes":"bearer","scope":"https://mail.example.com/"}`)
	irLine       = "ob1 AUTHENTICATE XOAUTH2 " + xoauth2IR("alice@example.com")
)

func TestLoginUpstreamScripted(t *testing.T) {
	for _, tc := range []struct {
		name     string
		steps    []upStep
		wantErr  error
		wantCaps string
		wantText string // in the error
	}{
		{"sasl-ir with caps in greeting and OK", []upStep{
			sayLine("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi"),
			hear(irLine),
			sayLine("ob1 OK [CAPABILITY IMAP4rev1 IDLE MOVE] done"),
		}, nil, "IMAP4rev1 IDLE MOVE", ""},
		{"no sasl-ir waits for continuation", []upStep{
			sayLine("* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] hi"),
			hear("ob1 AUTHENTICATE XOAUTH2"),
			sayLine("+ "),
			hear(xoauth2IR("alice@example.com")),
			sayLine("ob1 OK [CAPABILITY IMAP4rev1 IDLE] done"),
		}, nil, "IMAP4rev1 IDLE", ""},
		{"bare plus continuation", []upStep{
			sayLine("* OK [CAPABILITY IMAP4rev1] hi"),
			hear("ob1 AUTHENTICATE XOAUTH2"),
			sayLine("+"),
			hear(xoauth2IR("alice@example.com")),
			sayLine("ob1 OK [CAPABILITY IMAP4rev1] done"),
		}, nil, "IMAP4rev1", ""},
		{"capabilities asked before and after", []upStep{
			sayLine("* OK hi"),
			hear("ob1 CAPABILITY"),
			sayLine("* CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2"),
			sayLine("ob1 OK done"),
			hear("ob2 AUTHENTICATE XOAUTH2 " + xoauth2IR("alice@example.com")),
			sayLine("* OK [ALERT] something to ignore"),
			sayLine("ob2 OK done"),
			hear("ob3 CAPABILITY"),
			sayLine("* CAPABILITY IMAP4rev1 IDLE"),
			sayLine("ob3 OK done"),
		}, nil, "IMAP4rev1 IDLE", ""},
		{"untagged capability during authenticate", []upStep{
			sayLine("* OK [CAPABILITY IMAP4rev1 SASL-IR] hi"),
			hear(irLine),
			sayLine("* CAPABILITY IMAP4rev1 NAMESPACE"),
			sayLine("ob1 OK done"),
		}, nil, "IMAP4rev1 NAMESPACE", ""},
		{"untagged literal skipped", []upStep{
			sayLine("* OK [CAPABILITY IMAP4rev1 SASL-IR] hi"),
			hear(irLine),
			say("* ID (\"name\" {5}\r\nx\r\ny) \"v\" \"1\")\r\n"),
			sayLine("ob1 OK [CAPABILITY IMAP4rev1] done"),
		}, nil, "IMAP4rev1", ""},
		{"error challenge then AUTHENTICATIONFAILED", []upStep{
			sayLine("* OK [CAPABILITY IMAP4rev1 SASL-IR] hi"),
			hear(irLine),
			sayLine("+ " + errChallenge),
			hear(""),
			sayLine("ob1 NO [AUTHENTICATIONFAILED] Authentication failed."),
		}, upstream.ErrRejected, "", "Authentication failed. (scope https://mail.example.com/)"},
		{"microsoft bare NO", []upStep{
			sayLine("* OK The Microsoft Exchange IMAP4 service is ready."),
			hear("ob1 CAPABILITY"),
			sayLine("* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+"),
			sayLine("ob1 OK CAPABILITY completed."),
			hear("ob2 AUTHENTICATE XOAUTH2 " + xoauth2IR("alice@example.com")),
			sayLine("ob2 NO AUTHENTICATE failed."),
		}, upstream.ErrRejected, "", "AUTHENTICATE failed."},
		{"microsoft throttling", []upStep{
			sayLine("* OK [CAPABILITY IMAP4rev1 SASL-IR] hi"),
			hear(irLine),
			sayLine("ob1 NO Request is throttled. Suggested Backoff Time: 1000 milliseconds"),
		}, upstream.ErrUnavailable, "", "Request is throttled. Suggested Backoff Time: 1000 milliseconds"},
		{"unavailable", []upStep{
			sayLine("* OK [CAPABILITY IMAP4rev1 SASL-IR] hi"),
			hear(irLine),
			sayLine("ob1 NO [UNAVAILABLE] Temporary authentication failure"),
		}, upstream.ErrUnavailable, "", "Temporary authentication failure"},
		{"BAD", []upStep{
			sayLine("* OK [CAPABILITY IMAP4rev1 SASL-IR] hi"),
			hear(irLine),
			sayLine("ob1 BAD Unknown mechanism"),
		}, upstream.ErrProtocol, "", "Unknown mechanism"},
		{"non-JSON challenge is cancelled", []upStep{
			sayLine("* OK [CAPABILITY IMAP4rev1 SASL-IR] hi"),
			hear(irLine),
			sayLine("+ " + b64("not json")),
			hear("*"),
		}, upstream.ErrProtocol, "", "undecodable"},
		{"greeting BYE", []upStep{sayLine("* BYE Too many connections")},
			upstream.ErrUnavailable, "", "Too many connections"},
		{"greeting PREAUTH", []upStep{sayLine("* PREAUTH welcome")}, upstream.ErrProtocol, "", "PREAUTH"},
		{"greeting garbage", []upStep{sayLine("HTTP/1.1 400 Bad Request")}, upstream.ErrProtocol, "", "unexpected greeting"},
		{"closed after command", []upStep{
			sayLine("* OK [CAPABILITY IMAP4rev1 SASL-IR] hi"),
			hear(irLine),
			sayLine("* BYE shutting down"),
			hangUpStep(),
		}, upstream.ErrUnavailable, "", "shutting down"},
		{"unknown tag", []upStep{
			sayLine("* OK [CAPABILITY IMAP4rev1 SASL-IR] hi"),
			hear(irLine),
			sayLine("zz OK done"),
		}, upstream.ErrProtocol, "", "unknown tag"},
		{"line too long", []upStep{
			say("* OK [CAPABILITY IMAP4rev1 SASL-IR] " + strings.Repeat("x", 20000) + "\r\n"),
		}, upstream.ErrProtocol, "", "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := scripted(t, nil, tc.steps...)
			up, err := loginUp(t, testGrant(ep))
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tc.wantText) {
					t.Errorf("error %q lacks %q", err, tc.wantText)
				}
				return
			}
			if got := strings.Join(up.Caps, " "); got != tc.wantCaps {
				t.Errorf("caps %q, want %q", got, tc.wantCaps)
			}
		})
	}
}

// Bytes the server sends right after its tagged OK belong to the relay.
func TestLoginUpstreamKeepsBytesAfterOK(t *testing.T) {
	ep := scripted(t, nil,
		sayLine("* OK [CAPABILITY IMAP4rev1 SASL-IR] hi"),
		hear(irLine),
		say("ob1 OK [CAPABILITY IMAP4rev1] done\r\n* 3 EXISTS\r\n"))
	up, err := loginUp(t, testGrant(ep))
	if err != nil {
		t.Fatal(err)
	}
	up.Conn.SetReadDeadline(time.Now().Add(ioTimeout))
	buf := make([]byte, 12)
	if _, err := io.ReadFull(up.Reader, buf); err != nil || string(buf) != "* 3 EXISTS\r\n" {
		t.Errorf("after OK read %q, %v", buf, err)
	}
}

func TestLoginUpstreamOAuthBearer(t *testing.T) {
	var port string
	checkIR := func(line string) bool {
		want := "n,a=alice@example.com,\x01host=127.0.0.1\x01port=" + port + "\x01auth=Bearer " + testToken + "\x01\x01"
		return line == b64(want)
	}
	ep := scripted(t, nil,
		sayLine("* OK [CAPABILITY IMAP4rev1 AUTH=OAUTHBEARER] hi"),
		hear("ob1 AUTHENTICATE OAUTHBEARER"),
		sayLine("+ "),
		hearThat("the OAUTHBEARER initial response", checkIR),
		sayLine("+ "+errChallenge),
		hear("AQ=="), // RFC 7628 3.2.3: a lone 0x01 answers the error
		sayLine("ob1 NO [AUTHENTICATIONFAILED] Authentication failed."))
	_, port, _ = net.SplitHostPort(ep.Addr)
	g := testGrant(ep)
	g.Mechanism = "OAUTHBEARER"
	_, err := loginUp(t, g)
	var ue *UpstreamError
	if !errors.As(err, &ue) || !errors.Is(err, upstream.ErrRejected) || ue.Scope != "https://mail.example.com/" {
		t.Fatalf("error %v", err)
	}
}

func TestLoginUpstreamSTARTTLS(t *testing.T) {
	srvTLS, cliTLS := tlsConfigs(t)
	ep := scripted(t, srvTLS,
		sayLine("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi"),
		hear("ob1 STARTTLS"),
		sayLine("ob1 OK go ahead"),
		upgradeTLS(),
		hear("ob2 CAPABILITY"),
		sayLine("* CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2"),
		sayLine("ob2 OK done"),
		hear("ob3 AUTHENTICATE XOAUTH2 "+xoauth2IR("alice@example.com")),
		sayLine("ob3 OK [CAPABILITY IMAP4rev1 IDLE] done"))
	ep.TLS, ep.TLSConfig = upstream.StartTLS, cliTLS
	up, err := loginUp(t, testGrant(ep))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(up.Caps, " "); got != "IMAP4rev1 IDLE" {
		t.Errorf("caps %q", got)
	}
}

func TestLoginUpstreamSTARTTLSFailures(t *testing.T) {
	srvTLS, cliTLS := tlsConfigs(t)
	for _, tc := range []struct {
		name    string
		steps   []upStep
		wantErr error
	}{
		{"refused", []upStep{sayLine("* OK [CAPABILITY IMAP4rev1] hi"), hear("ob1 STARTTLS"),
			sayLine("ob1 BAD no TLS here")}, upstream.ErrTLS},
		// A man in the middle appending plaintext after the OK.
		{"plaintext injected after OK", []upStep{sayLine("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi"), hear("ob1 STARTTLS"),
			say("ob1 OK go ahead\r\nob2 OK [CAPABILITY IMAP4rev1] fake\r\n")}, upstream.ErrProtocol},
		{"bad certificate", []upStep{sayLine("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi"), hear("ob1 STARTTLS"),
			sayLine("ob1 OK go ahead"), upgradeTLS()}, upstream.ErrTLS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := scripted(t, srvTLS, tc.steps...)
			ep.TLS, ep.TLSConfig = upstream.StartTLS, cliTLS
			if tc.name == "bad certificate" {
				ep.TLSConfig = nil // system roots do not know the test CA
			}
			_, err := loginUp(t, testGrant(ep))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestLoginUpstreamUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = loginUp(t, testGrant(upstream.Endpoint{Addr: addr, TLS: upstream.Plain}))
	if !errors.Is(err, upstream.ErrUnreachable) {
		t.Fatalf("error %v", err)
	}
}

// A server that accepts and then says nothing must not hold the login
// past its deadline.
func TestLoginUpstreamSilentServer(t *testing.T) {
	ep := scripted(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := LoginUpstream(ctx, testGrant(ep))
	if !errors.Is(err, upstream.ErrUnreachable) {
		t.Fatalf("error %v", err)
	}
}

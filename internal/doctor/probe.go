package doctor

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy/lineio"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// maxProbeLine bounds a line read from a mail server while probing.
const maxProbeLine = 4096

// probe is a plain line dialogue with a mail server before login.
type probe struct {
	proto string
	conn  net.Conn
	lines *lineio.Reader
}

func (p *probe) setConn(c net.Conn) {
	p.conn = c
	p.lines = lineio.New(bufio.NewReaderSize(c, maxProbeLine+2), maxProbeLine)
}

func (p *probe) readLine() (string, error) {
	b, err := p.lines.ReadLine()
	if err != nil {
		return "", fmt.Errorf("%s server: read: %w: %v", p.proto, upstream.ErrProtocol, err)
	}
	return string(b), nil
}

func (p *probe) send(line string) error {
	if _, err := p.conn.Write([]byte(line + "\r\n")); err != nil {
		return fmt.Errorf("%s server: write: %w: %v", p.proto, upstream.ErrUnreachable, err)
	}
	return nil
}

// Upstream connects to a mail server the way the front ends do (TCP, TLS
// with verification, implicitly or after the protocol's STARTTLS) and
// reads its greeting, without logging in.
func Upstream(ctx context.Context, proto string, ep upstream.Endpoint) (string, error) {
	conn, err := upstream.Dial(ctx, ep)
	if err != nil {
		return "", upstreamHint(err, ep)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	p := &probe{proto: proto}
	p.setConn(conn)
	greeting, err := p.greeting()
	if err != nil {
		return "", upstreamHint(err, ep)
	}
	if ep.TLS == upstream.StartTLS {
		if err := p.startTLS(ctx, ep); err != nil {
			return "", upstreamHint(err, ep)
		}
	}
	return fmt.Sprintf("%s, greeting %q", tlsDetail(p.conn), truncate(oneLine(greeting), 80)), nil
}

// greeting reads the server's first reply and checks it is the
// protocol's "ready".
func (p *probe) greeting() (string, error) {
	switch p.proto {
	case "imap":
		return p.expect("* OK", "* PREAUTH")
	case "pop3":
		return p.expect("+OK")
	case "smtp":
		return p.smtpReply("220")
	}
	return "", fmt.Errorf("unknown protocol %q", p.proto)
}

// startTLS runs the protocol's STARTTLS and the TLS handshake.
func (p *probe) startTLS(ctx context.Context, ep upstream.Endpoint) error {
	var err error
	switch p.proto {
	case "imap":
		if err = p.send("D1 STARTTLS"); err == nil {
			_, err = p.tagged("D1")
		}
	case "pop3":
		if err = p.send("STLS"); err == nil {
			_, err = p.expect("+OK")
		}
	case "smtp":
		if err = p.send("EHLO oauthbridge-doctor"); err == nil {
			if _, err = p.smtpReply("250"); err == nil {
				if err = p.send("STARTTLS"); err == nil {
					_, err = p.smtpReply("220")
				}
			}
		}
	}
	if err != nil {
		return fmt.Errorf("starttls: %w", err)
	}
	tc, err := upstream.Handshake(ctx, p.conn, ep)
	if err != nil {
		return err
	}
	p.setConn(tc)
	return nil
}

// expect reads one line and checks its start.
func (p *probe) expect(prefixes ...string) (string, error) {
	line, err := p.readLine()
	if err != nil {
		return "", err
	}
	for _, pre := range prefixes {
		if strings.HasPrefix(strings.ToUpper(line), pre) {
			return line, nil
		}
	}
	return "", fmt.Errorf("%s server said %q: %w", p.proto, truncate(oneLine(line), 120), upstream.ErrProtocol)
}

// tagged reads IMAP lines until the tagged reply, which must be OK.
func (p *probe) tagged(tag string) (string, error) {
	for i := 0; i < 100; i++ {
		line, err := p.readLine()
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(line, tag+" ") {
			if !strings.HasPrefix(strings.ToUpper(line[len(tag)+1:]), "OK") {
				return "", fmt.Errorf("imap server said %q: %w", truncate(oneLine(line), 120), upstream.ErrProtocol)
			}
			return line, nil
		}
	}
	return "", fmt.Errorf("imap server: no tagged reply: %w", upstream.ErrProtocol)
}

// smtpReply reads a (multi-line) SMTP reply and checks its code.
func (p *probe) smtpReply(code string) (string, error) {
	for i := 0; i < 100; i++ {
		line, err := p.readLine()
		if err != nil {
			return "", err
		}
		if len(line) < 4 || line[:3] != code {
			return "", fmt.Errorf("smtp server said %q: %w", truncate(oneLine(line), 120), upstream.ErrProtocol)
		}
		if line[3] == ' ' {
			return line, nil
		}
	}
	return "", fmt.Errorf("smtp server: endless reply: %w", upstream.ErrProtocol)
}

func tlsDetail(c net.Conn) string {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return "no TLS (plain, loopback only)"
	}
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return tls.VersionName(st.Version)
	}
	leaf := st.PeerCertificates[0]
	name := leaf.Subject.CommonName
	if len(leaf.DNSNames) > 0 {
		name = leaf.DNSNames[0]
	}
	return fmt.Sprintf("%s, certificate for %s verified (expires %s)", tls.VersionName(st.Version), name,
		leaf.NotAfter.UTC().Format(time.DateOnly))
}

// upstreamHint attaches the advice for a failed connection to ep.
func upstreamHint(err error, ep upstream.Endpoint) error {
	switch {
	case errors.Is(err, upstream.ErrTLS):
		return withHint(err, "the certificate of %s is not trusted or does not match its name (or the server does not speak TLS %s): check the address and tls mode, or add its CA with ca_file", ep.Addr, ep.TLS)
	case errors.Is(err, upstream.ErrUnreachable):
		return withHint(err, "nothing answers at %s: is the mail server running, is the address right, does a firewall block it?", ep.Addr)
	case errors.Is(err, upstream.ErrProtocol):
		return withHint(err, "%s answers, but not like this protocol's server: check the port and the tls mode (implicit or starttls)", ep.Addr)
	}
	return withHint(err, "check the mail server at %s", ep.Addr)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

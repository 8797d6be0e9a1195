package doctor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/oauthbridge/oauthbridge/proxy/imapfront"
	"github.com/oauthbridge/oauthbridge/proxy/lineio"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/pop3front"
	"github.com/oauthbridge/oauthbridge/proxy/smtpfront"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// refusedAdvice is the general hint for a mail server that refuses a
// fresh token.
const refusedAdvice = "the mail server refused a token the identity provider just issued: check that the app has the " +
	"mail permissions (scopes), that the upstream user name is right (upstream_user), and that the mailbox " +
	"allows this protocol"

// login logs in upstream with the fresh token, as the front end would,
// then asks for something only a usable mailbox answers.
func (c *check) login(ctx context.Context, proto string) (string, error) {
	ep := c.p.Upstreams[proto]
	user := c.tok.UpstreamUser
	if user == "" {
		user = c.account
	}
	g := &login.Grant{Account: c.account, Provider: c.rec.Provider, UpstreamUser: user,
		AccessToken: c.tok.AccessToken, Mechanism: c.p.Mechanism, Upstream: ep}
	conn, br, err := loginUpstream(ctx, proto, g)
	if err != nil {
		return "", c.loginHint(err, ep)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	said, err := afterLogin(proto, conn, br)
	if err != nil {
		return "", advice(errors.New(c.scrubbed(err.Error())), "the login worked but the mailbox did not answer: check that the mailbox exists and allows "+proto)
	}
	return fmt.Sprintf("logged in as %s with %s; %s", user, g.Mechanism, c.scrubbed(said)), nil
}

func loginUpstream(ctx context.Context, proto string, g *login.Grant) (net.Conn, *bufio.Reader, error) {
	switch proto {
	case "imap":
		up, err := imapfront.LoginUpstream(ctx, g)
		if err != nil {
			return nil, nil, err
		}
		return up.Conn, up.Reader, nil
	case "pop3":
		return pop3front.LoginUpstream(ctx, g, pop3front.UpstreamOptions{})
	case "smtp":
		return smtpfront.LoginUpstream(ctx, g, "oauthbridge-doctor")
	}
	return nil, nil, fmt.Errorf("unknown protocol %q", proto)
}

func (c *check) loginHint(err error, ep upstream.Endpoint) error {
	var general string
	switch {
	case errors.Is(err, upstream.ErrRejected):
		general = refusedAdvice
	case errors.Is(err, upstream.ErrUnavailable):
		general = "the mail server reported a temporary failure: try again later; if it persists, check the server (it may not reach its own token check)"
	default:
		general = upstreamHint(err, ep).(*hinted).hint
	}
	return advice(errors.New(c.scrubbed(err.Error())), general)
}

// afterLogin sends one harmless command that needs a usable mailbox and
// returns what the server said.
func afterLogin(proto string, conn net.Conn, br *bufio.Reader) (string, error) {
	lines := lineio.New(br, br.Size()-2)
	switch proto {
	case "imap":
		return command(conn, lines, "D2 SELECT INBOX", "SELECT INBOX", func(l string) (bool, bool) {
			if !strings.HasPrefix(l, "D2 ") {
				return false, false
			}
			return true, strings.HasPrefix(strings.ToUpper(l[3:]), "OK")
		})
	case "pop3":
		return command(conn, lines, "STAT", "STAT", func(l string) (bool, bool) { return true, strings.HasPrefix(l, "+OK") })
	case "smtp":
		return command(conn, lines, "NOOP", "NOOP", func(l string) (bool, bool) { return len(l) > 3 && l[3] == ' ', strings.HasPrefix(l, "250") })
	}
	return "", nil
}

// command sends line and reads until final says the reply is complete.
func command(conn net.Conn, lines *lineio.Reader, line, label string, final func(string) (done, ok bool)) (string, error) {
	if _, err := conn.Write([]byte(line + "\r\n")); err != nil {
		return "", fmt.Errorf("%s: %w", label, err)
	}
	for i := 0; i < 1000; i++ {
		b, err := lines.ReadLine()
		if err != nil {
			return "", fmt.Errorf("%s: %w", label, err)
		}
		l := string(b)
		done, ok := final(l)
		if !done {
			continue
		}
		said := fmt.Sprintf("%s answered %q", label, truncate(oneLine(l), 100))
		if !ok {
			return "", errors.New(said)
		}
		return said, nil
	}
	return "", fmt.Errorf("%s: no final reply", label)
}

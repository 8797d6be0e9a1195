package smtpfront

import (
	"errors"
	"strings"
)

// errSyntax: the line is not "VERB [argument]".
var errSyntax = errors.New("command syntax error")

// maxVerb is longer than any SMTP verb; a longer first word is noise.
const maxVerb = 16

// parseCommand splits a command line into its upper-cased verb and the
// argument after the first space (surrounding blanks removed).
func parseCommand(line string) (verb, arg string, err error) {
	verb, arg, _ = strings.Cut(line, " ")
	if verb == "" || len(verb) > maxVerb {
		return "", "", errSyntax
	}
	for i := 0; i < len(verb); i++ {
		if !isAlnum(verb[i]) {
			return "", "", errSyntax
		}
	}
	return strings.ToUpper(verb), strings.Trim(arg, " \t"), nil
}

func isAlnum(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// parseDomain returns the EHLO/HELO argument's first word: a domain or an
// address literal. It is passed upstream verbatim, so nothing that could
// break a command line (controls, spaces) gets through.
func parseDomain(arg string) (string, bool) {
	name, _, _ := strings.Cut(arg, " ")
	if name == "" || len(name) > 255 {
		return "", false
	}
	for i := 0; i < len(name); i++ {
		if name[i] <= ' ' || name[i] == 0x7f {
			return "", false
		}
	}
	return name, true
}

// handlers are the commands known before login.
var handlers = map[string]func(*conn, string) step{
	"EHLO":     (*conn).cmdEHLO,
	"HELO":     (*conn).cmdHELO,
	"AUTH":     (*conn).cmdAUTH,
	"STARTTLS": (*conn).cmdSTARTTLS,
	"NOOP":     (*conn).cmdNOOP,
	"RSET":     (*conn).cmdRSET,
	"QUIT":     (*conn).cmdQUIT,
	"MAIL":     (*conn).needAuth,
	"RCPT":     (*conn).needAuth,
	"DATA":     (*conn).needAuth,
	"BDAT":     (*conn).needAuth,
	"VRFY":     (*conn).notImplemented,
	"EXPN":     (*conn).notImplemented,
	"HELP":     (*conn).notImplemented,
	"ETRN":     (*conn).notImplemented,
	"TURN":     (*conn).notImplemented,
}

// dispatch runs one command line.
func (c *conn) dispatch(line string) step {
	verb, arg, err := parseCommand(line)
	if err != nil {
		c.send("500 5.5.2 Syntax error\r\n")
		return stepNext
	}
	h, ok := handlers[verb]
	if !ok {
		c.send("500 5.5.1 Unrecognized command\r\n")
		return stepNext
	}
	return h(c, arg)
}

func (c *conn) cmdHELO(arg string) step {
	name, ok := parseDomain(arg)
	if !ok {
		c.send("501 5.5.4 Syntax: HELO hostname\r\n")
		return stepNext
	}
	c.helo, c.ehlo = name, false
	c.send("250 " + c.srv.hostname() + "\r\n")
	return stepNext
}

func (c *conn) cmdEHLO(arg string) step {
	name, ok := parseDomain(arg)
	if !ok {
		c.send("501 5.5.4 Syntax: EHLO hostname\r\n")
		return stepNext
	}
	c.helo, c.ehlo = name, true
	c.send(multiline(250, c.ehloLines()))
	return stepNext
}

func (c *conn) cmdNOOP(string) step {
	c.send("250 2.0.0 OK\r\n")
	return stepNext
}

// cmdRSET has nothing to reset: no transaction can exist before login.
func (c *conn) cmdRSET(string) step {
	c.send("250 2.0.0 OK\r\n")
	return stepNext
}

func (c *conn) cmdQUIT(string) step {
	c.send("221 2.0.0 " + c.srv.hostname() + " closing connection\r\n")
	c.sess.Result = "quit"
	return stepClose
}

func (c *conn) needAuth(string) step {
	c.send("530 5.7.0 Authentication required\r\n")
	return stepNext
}

func (c *conn) notImplemented(string) step {
	c.send("502 5.5.1 Command not implemented\r\n")
	return stepNext
}

// multiline formats a reply of several lines: "250-a", "250-b", "250 c".
func multiline(code int, lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(itoa3(code))
		if i < len(lines)-1 {
			b.WriteByte('-')
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	return b.String()
}

func itoa3(code int) string {
	return string([]byte{byte('0' + code/100%10), byte('0' + code/10%10), byte('0' + code%10)})
}

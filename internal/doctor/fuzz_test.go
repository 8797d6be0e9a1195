package doctor

import (
	"net"
	"testing"
	"time"
)

// FuzzProbeReplies feeds arbitrary server bytes to the probe's reply
// parsers: whatever a server sends, the probe ends with a result or an
// error, never a panic or a hang.
func FuzzProbeReplies(f *testing.F) {
	f.Add("imap", "* OK [CAPABILITY IMAP4rev1] ready\r\n")
	f.Add("pop3", "+OK ready\r\n")
	f.Add("smtp", "220-a\r\n220-b\r\n220 c\r\n")
	f.Add("smtp", "220")
	f.Add("imap", "D1 NO\r\nD1 OK\r\n")
	f.Fuzz(func(t *testing.T, proto, stream string) {
		client, server := net.Pipe()
		defer client.Close()
		go func() {
			server.Write([]byte(stream))
			server.Close()
		}()
		client.SetDeadline(time.Now().Add(5 * time.Second))
		p := &probe{proto: proto}
		p.setConn(client)
		p.greeting()
		p.tagged("D1")
		p.smtpReply("250")
	})
}

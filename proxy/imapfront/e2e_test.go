package imapfront

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// serveFront runs srv on a loopback listener until the test ends.
func serveFront(t *testing.T, srv *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	go func() {
		for n := 0; ; n++ {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				s := &proxy.Session{ID: strconv.Itoa(n), Listener: "imap", Remote: conn.RemoteAddr(), Started: time.Now()}
				srv.ServeConn(ctx, conn, s)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); cancel(); wg.Wait() })
	return ln.Addr().String()
}

func dialClient(t *testing.T, addr string, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, &imapclient.Options{UnilateralDataHandler: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("alice@example.com", "local password").Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	return c
}

// A real IMAP client through the front end to a real IMAP server:
// SELECT, APPEND, FETCH, and IDLE that hears about mail appended by a
// second client.
func TestEndToEndGoIMAPClient(t *testing.T) {
	mem := startMem(t, upstream.Implicit, testToken)
	addr := serveFront(t, &Server{Auth: grantFor(mem.Endpoint(), "alice@example.com", testToken)})

	exists := make(chan uint32, 10)
	idler := dialClient(t, addr, &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	})
	if !idler.Caps().Has(imap.CapIdle) {
		t.Fatalf("client did not learn the upstream's capabilities: %v", idler.Caps())
	}
	sel, err := idler.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 0 {
		t.Fatalf("select: %v, %+v", err, sel)
	}
	idle, err := idler.Idle()
	if err != nil {
		t.Fatal(err)
	}

	writer := dialClient(t, addr, nil)
	if n := appendUntilExists(t, writer, exists); n < 1 {
		t.Errorf("EXISTS %d", n)
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := idler.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{
		BodySection: []*imap.FetchItemBodySection{{}},
	}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch: %v, %d messages", err, len(msgs))
	}
	var body []byte
	for _, b := range msgs[0].BodySection {
		body = b.Bytes
	}
	if string(body) != "Subject: hello\r\n\r\nfirst message\r\n" {
		t.Errorf("body %q", body)
	}
	if err := idler.Logout().Wait(); err != nil {
		t.Errorf("logout: %v", err)
	}
}

// appendUntilExists appends messages until the idling client hears
// EXISTS. More than one append may be needed: go-imap's server (beta.8)
// sends "+ idling" before it starts watching the mailbox, and an update
// that falls in between is only delivered with the next one.
func appendUntilExists(t *testing.T, c *imapclient.Client, exists <-chan uint32) uint32 {
	t.Helper()
	for i := 0; i < 5; i++ {
		appendMessage(t, c, "Subject: hello\r\n\r\nfirst message\r\n")
		select {
		case n := <-exists:
			return n
		case <-time.After(time.Second):
		}
	}
	t.Fatal("no EXISTS during IDLE")
	return 0
}

func appendMessage(t *testing.T, c *imapclient.Client, msg string) {
	t.Helper()
	cmd := c.Append("INBOX", int64(len(msg)), nil)
	if _, err := cmd.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("append: %v", err)
	}
}

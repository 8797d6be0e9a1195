package listener

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy"
)

// holder greets and then waits for the client to hang up.
func holder(ctx context.Context, conn net.Conn, s *proxy.Session) {
	conn.Write([]byte("* OK\r\n"))
	io.Copy(io.Discard, conn)
}

func dialGreeted(t *testing.T, addr string) (net.Conn, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return c, line
}

// One address may hold only its share of connections; others, and the
// same address once it closed one, still get in.
func TestPerSourceLimit(t *testing.T) {
	addr := start(t, &Server{Name: "imap", Addr: "127.0.0.1:0", Handler: handlerFunc(holder),
		Sources: NewSourceLimiter(2), Refuse: func(c net.Conn) { c.Write([]byte("* BYE too many connections\r\n")) }})
	first, l1 := dialGreeted(t, addr)
	_, l2 := dialGreeted(t, addr)
	_, l3 := dialGreeted(t, addr)
	if l1 != "* OK\r\n" || l2 != "* OK\r\n" || l3 != "* BYE too many connections\r\n" {
		t.Fatalf("greetings %q %q %q", l1, l2, l3)
	}
	first.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, l := dialGreeted(t, addr); l == "* OK\r\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection's slot was never given back")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSourceKeyGroupsIPv6By64(t *testing.T) {
	a := &net.TCPAddr{IP: net.ParseIP("2001:db8:1:2::1"), Port: 1}
	b := &net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:ffff::9"), Port: 2}
	c := &net.TCPAddr{IP: net.ParseIP("2001:db8:1:3::1"), Port: 3}
	if sourceKey(a) != sourceKey(b) || sourceKey(a) == sourceKey(c) {
		t.Fatalf("keys %s %s %s", sourceKey(a), sourceKey(b), sourceKey(c))
	}
	if sourceKey(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)}) != "192.0.2.1" {
		t.Fatal("IPv4 key")
	}
}

// readAll reads conn the way a front end does before login: with a read
// deadline set, until an error.
func readAll(conn net.Conn) (int64, error) {
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	return io.Copy(io.Discard, conn)
}

// A client that keeps sending before login is cut off at the budget, and
// the summary says why.
func TestPreLoginByteBudget(t *testing.T) {
	log, logs := observed()
	read := make(chan int64, 1)
	h := handlerFunc(func(ctx context.Context, conn net.Conn, s *proxy.Session) {
		n, err := readAll(conn)
		if !errors.Is(err, ErrPreLoginBudget) {
			t.Errorf("read ended with %v, want ErrPreLoginBudget", err)
		}
		read <- n
	})
	addr := start(t, &Server{Name: "imap", Addr: "127.0.0.1:0", Handler: h, PreLoginBytes: 64 << 10, Log: log})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go c.Write(bytes.Repeat([]byte("A"), 1<<20))
	if n := <-read; n != 64<<10 {
		t.Fatalf("handler read %d bytes, want exactly the 64 KiB budget", n)
	}
	if sum := waitFor(t, logs, "connection", 1)[0].ContextMap(); sum["result"] != ResultInputLimit {
		t.Fatalf("summary %v", sum)
	}
}

// Clearing the read deadline, as every front end does before relaying,
// ends the budget: after login a client may send any amount.
func TestPreLoginBudgetEndsAtLogin(t *testing.T) {
	read := make(chan int64, 1)
	h := handlerFunc(func(ctx context.Context, conn net.Conn, s *proxy.Session) {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 100)
		io.ReadFull(conn, buf)
		conn.SetReadDeadline(time.Time{}) // login done
		n, _ := io.Copy(io.Discard, conn)
		read <- n + 100
	})
	addr := start(t, &Server{Name: "imap", Addr: "127.0.0.1:0", Handler: h, PreLoginBytes: 1024})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(bytes.Repeat([]byte("B"), 1<<20))
	c.Close()
	if n := <-read; n != 1<<20 {
		t.Fatalf("relay phase read %d bytes, want all 1 MiB", n)
	}
}

// The implicit TLS handshake counts against the budget but does not end
// it, although the listener clears its handshake deadline.
func TestPreLoginBudgetSurvivesImplicitTLS(t *testing.T) {
	cert, _, err := SelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	h := handlerFunc(func(ctx context.Context, conn net.Conn, s *proxy.Session) {
		_, err := readAll(conn)
		read <- err
	})
	addr := start(t, &Server{Name: "imaps", Addr: "127.0.0.1:0", Handler: h, TLSConfig: ServerTLSConfig(cert), PreLoginBytes: 32 << 10})
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go c.Write(bytes.Repeat([]byte("C"), 1<<20))
	if err := <-read; !errors.Is(err, ErrPreLoginBudget) {
		t.Fatalf("read over TLS ended with %v, want ErrPreLoginBudget", err)
	}
}

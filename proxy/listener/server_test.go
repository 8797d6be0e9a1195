package listener

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/oauthbridge/oauthbridge/proxy"
)

// handlerFunc adapts a function to proxy.Handler.
type handlerFunc func(ctx context.Context, conn net.Conn, s *proxy.Session)

func (f handlerFunc) ServeConn(ctx context.Context, conn net.Conn, s *proxy.Session) { f(ctx, conn, s) }

// greeter answers one line with a greeting naming the session, the way a
// front end would, and records an outcome.
func greeter(ctx context.Context, conn net.Conn, s *proxy.Session) {
	conn.Write([]byte("* OK hello " + s.Listener + "\r\n"))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		s.Result = "eof"
		return
	}
	s.Account = strings.TrimSpace(line)
	s.Result = "ok"
	conn.Write([]byte("* BYE " + s.Account + "\r\n"))
}

func start(t *testing.T, s *Server) string {
	t.Helper()
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s.BoundAddr().String()
}

func observed() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zap.DebugLevel)
	return zap.New(core), logs
}

// waitFor polls for a log entry: the summary is written after the
// connection closes, which the client may see first.
func waitFor(t *testing.T, logs *observer.ObservedLogs, msg string, n int) []observer.LoggedEntry {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := logs.FilterMessage(msg).All(); len(got) >= n {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %d %q log lines; have %v", n, msg, logs.All())
	return nil
}

func TestTranscriptAndSummary(t *testing.T) {
	log, logs := observed()
	addr := start(t, &Server{Name: "imap", Addr: "127.0.0.1:0", Handler: handlerFunc(greeter), Log: log})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("alice@example.test\r\n"))
	got, _ := io.ReadAll(c)
	if want := "* OK hello imap\r\n* BYE alice@example.test\r\n"; string(got) != want {
		t.Fatalf("client saw %q, want %q", got, want)
	}
	sum := waitFor(t, logs, "connection", 1)[0].ContextMap()
	if sum["listener"] != "imap" || sum["result"] != "ok" || sum["account"] != "alice@example.test" ||
		sum["remote"] != c.LocalAddr().String() || sum["conn_id"] == "" || sum["tls"] != false {
		t.Fatalf("summary fields = %v", sum)
	}
}

func TestConnectionIDsAreUnique(t *testing.T) {
	log, logs := observed()
	addr := start(t, &Server{Name: "imap", Addr: "127.0.0.1:0", Handler: handlerFunc(greeter), Log: log})
	for range 5 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("x\r\n"))
		io.ReadAll(c)
		c.Close()
	}
	seen := map[any]bool{}
	for _, e := range waitFor(t, logs, "connection", 5) {
		id := e.ContextMap()["conn_id"]
		if seen[id] {
			t.Fatalf("duplicate conn_id %v", id)
		}
		seen[id] = true
	}
}

func TestLimitRefusesExcess(t *testing.T) {
	release := make(chan struct{})
	hold := handlerFunc(func(ctx context.Context, conn net.Conn, s *proxy.Session) {
		conn.Write([]byte("* OK\r\n"))
		<-release
	})
	lim := NewLimiter(1)
	addr := start(t, &Server{Name: "imap", Addr: "127.0.0.1:0", Handler: hold, Limiter: lim,
		Refuse: func(c net.Conn) { c.Write([]byte("* BYE too many connections\r\n")) }})
	first, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if line, _ := bufio.NewReader(first).ReadString('\n'); line != "* OK\r\n" {
		t.Fatalf("first got %q", line)
	}
	second, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if got, _ := io.ReadAll(second); string(got) != "* BYE too many connections\r\n" {
		t.Fatalf("second got %q", got)
	}
	close(release)
	first.Close()
	// The slot comes back: a third connection is served.
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if line == "* OK\r\n" {
			break
		}
		time.Sleep(5 * time.Millisecond) // the first handler has not returned yet
	}
}

func TestPanicIsContainedAndSecretFree(t *testing.T) {
	const secret = "pa55w0rd-in-a-panic"
	log, logs := observed()
	h := handlerFunc(func(ctx context.Context, conn net.Conn, s *proxy.Session) {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		if strings.HasPrefix(line, "boom") {
			panic("login failed for password " + secret)
		}
		conn.Write([]byte("* still alive\r\n"))
		s.Result = "ok"
	})
	addr := start(t, &Server{Name: "pop3", Addr: "127.0.0.1:0", Handler: h, Log: log})
	c, _ := net.Dial("tcp", addr)
	c.Write([]byte("boom\r\n"))
	if got, _ := io.ReadAll(c); len(got) != 0 {
		t.Fatalf("panicking handler's client got %q", got)
	}
	c.Close()
	c2, _ := net.Dial("tcp", addr)
	c2.Write([]byte("hi\r\n"))
	if got, _ := io.ReadAll(c2); string(got) != "* still alive\r\n" {
		t.Fatalf("after panic, got %q", got)
	}
	c2.Close()
	waitFor(t, logs, "connection", 2)
	p := logs.FilterMessage("handler panic").All()
	if len(p) != 1 || p[0].ContextMap()["panic_type"] != "string" {
		t.Fatalf("panic log = %v", p)
	}
	for _, e := range logs.All() {
		for k, v := range e.ContextMap() {
			if s, ok := v.(string); ok && strings.Contains(s, secret) {
				t.Fatalf("secret in log field %s of %q", k, e.Message)
			}
		}
	}
	// The two summary lines may be logged in either order.
	results := map[any]int{}
	for _, e := range logs.FilterMessage("connection").All() {
		results[e.ContextMap()["result"]]++
	}
	if results[ResultPanic] != 1 || results["ok"] != 1 {
		t.Fatalf("summary results = %v, want one %s and one ok", results, ResultPanic)
	}
}

func TestShutdownWaitsForShortSessions(t *testing.T) {
	started := make(chan struct{})
	finish := make(chan struct{})
	h := handlerFunc(func(ctx context.Context, conn net.Conn, s *proxy.Session) {
		close(started)
		<-finish
		conn.Write([]byte("* BYE done\r\n"))
	})
	s := &Server{Name: "imap", Addr: "127.0.0.1:0", Handler: h}
	addr := start(t, s)
	c, _ := net.Dial("tcp", addr)
	defer c.Close()
	<-started
	errc := make(chan error, 1)
	go func() { errc <- s.Shutdown(context.Background()) }()
	// New connections are no longer accepted once Shutdown has begun.
	for {
		c2, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c2.Close()
		time.Sleep(5 * time.Millisecond)
	}
	close(finish)
	if got, _ := io.ReadAll(c); string(got) != "* BYE done\r\n" {
		t.Fatalf("session cut short: %q", got)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestShutdownCancelsLongSessions(t *testing.T) {
	sawCancel := make(chan struct{})
	started := make(chan struct{}, 2)
	h := handlerFunc(func(ctx context.Context, conn net.Conn, s *proxy.Session) {
		started <- struct{}{}
		if s.ID[len(s.ID)-1] == '1' {
			<-ctx.Done() // a session that honours its context
			close(sawCancel)
			return
		}
		io.Copy(io.Discard, conn) // one that only notices a closed connection
	})
	s := &Server{Name: "imap", Addr: "127.0.0.1:0", Handler: h}
	addr := start(t, s)
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		<-started
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want deadline exceeded", err)
	}
	<-sawCancel
}

func TestImplicitTLS(t *testing.T) {
	cert, created, err := SelfSigned(t.TempDir())
	if err != nil || !created {
		t.Fatalf("SelfSigned: created=%v err=%v", created, err)
	}
	log, logs := observed()
	h := handlerFunc(func(ctx context.Context, conn net.Conn, s *proxy.Session) {
		if _, ok := conn.(*tls.Conn); !ok || !s.TLS {
			conn.Write([]byte("not tls\r\n"))
			return
		}
		greeter(ctx, conn, s)
	})
	addr := start(t, &Server{Name: "imaps", Addr: "127.0.0.1:0", Handler: h, TLSConfig: ServerTLSConfig(cert), Log: log})
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("tls dial: %v", err)
	}
	c.Write([]byte("bob@example.test\r\n"))
	got, _ := io.ReadAll(c)
	c.Close()
	if want := "* OK hello imaps\r\n* BYE bob@example.test\r\n"; string(got) != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if sum := waitFor(t, logs, "connection", 1)[0].ContextMap(); sum["tls"] != true {
		t.Fatalf("summary = %v", sum)
	}

	// A client speaking plain text to the TLS port fails the handshake.
	p, _ := net.Dial("tcp", addr)
	p.Write([]byte("a1 CAPABILITY\r\n"))
	io.ReadAll(p)
	p.Close()
	if sum := waitFor(t, logs, "connection", 2)[1].ContextMap(); sum["result"] != ResultTLSHandshake {
		t.Fatalf("summary = %v", sum)
	}
}

func TestServeBeforeListen(t *testing.T) {
	if err := (&Server{}).Serve(); err == nil {
		t.Fatal("Serve without Listen succeeded")
	}
	if err := (&Server{}).Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown without Listen: %v", err)
	}
}

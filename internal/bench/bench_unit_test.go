package bench

import (
	"bufio"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"testing"
	"time"
)

func TestLiteralSize(t *testing.T) {
	for _, c := range []struct {
		line string
		n    int64
		ok   bool
	}{
		{"* 1 FETCH (BODY[] {8388608}", 8388608, true},
		{"* 1 FETCH (BODY[] {12+}", 12, true},
		{"* 1 FETCH (FLAGS (\\Seen))", 0, false},
		{"* OK {x}", 0, false},
		{"}", 0, false},
		{"* 1 FETCH {-1}", 0, false},
	} {
		n, ok := literalSize(c.line)
		if n != c.n || ok != c.ok {
			t.Errorf("literalSize(%q) = %d, %v; want %d, %v", c.line, n, ok, c.n, c.ok)
		}
	}
}

func TestQuantileNearestRank(t *testing.T) {
	var l Latencies
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(i))
	}
	if l.Quantile(0.5) != 50 || l.Quantile(0.99) != 99 || l.Quantile(1) != 100 {
		t.Fatalf("p50 %d p99 %d max %d", l.Quantile(0.5), l.Quantile(0.99), l.Quantile(1))
	}
	if (Latencies{}).Quantile(0.5) != 0 {
		t.Fatal("empty quantile not zero")
	}
}

func TestQuoteEscapes(t *testing.T) {
	if got := quote(`a"b\c`); got != `"a\"b\\c"` {
		t.Fatalf("quote = %s", got)
	}
}

func TestReadProcSelf(t *testing.T) {
	st, err := ReadProc(selfPid())
	if err != nil || st.RSS <= 0 || st.Threads <= 0 {
		t.Fatalf("%+v %v", st, err)
	}
}

// The idle-client process's protocol, served in-process against the
// in-process stack: open sessions, hear how many idle, close them.
func TestServeIdleClients(t *testing.T) {
	w := NewWorld(t, 1)
	s := NewStack(t, w, w.Accounts)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.certDER})
	spec, _ := json.Marshal(IdleSpec{Addr: s.Addr, CAPEM: pemBytes, Accounts: w.Accounts, Parallel: 2})
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- ServeIdleClients(inR, outW); outW.Close() }()
	replies := bufio.NewReader(outR)
	fmt.Fprintf(inW, "%s\nopen 3\n", spec)
	line, err := replies.ReadString('\n')
	var r idleReply
	if err != nil || json.Unmarshal([]byte(line), &r) != nil || r.Opened != 3 || r.Failures != 0 {
		t.Fatalf("open 3: %q %v", line, err)
	}
	fmt.Fprintln(inW, "close")
	if line, _ := replies.ReadString('\n'); line != "closed\n" {
		t.Fatalf("close: %q", line)
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

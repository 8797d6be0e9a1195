package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// The idle clients run in a process of their own: a process may hold
// only RLIMIT_NOFILE descriptors, and this one already holds the
// upstream's end of every session.

// IdleSpec tells the idle-client process where to connect and as whom.
// It travels on the child's standard input, never on its command line.
type IdleSpec struct {
	Addr     string
	CAPEM    []byte
	Accounts []Account
	Parallel int
	// Fetch makes each session fetch its INBOX's first message before
	// IDLE.
	Fetch bool
}

// idleReply answers one "open N" command.
type idleReply struct {
	Opened, Failures int
	FirstError       string
}

// ServeIdleClients is the idle-client process: it reads an IdleSpec line,
// then commands: "open N" opens N more sessions through the proxy (LOGIN,
// SELECT INBOX, IDLE) and answers with an idleReply line; "close" closes
// them all and answers "closed". It returns at end of input.
func ServeIdleClients(in io.Reader, out io.Writer) error {
	r := bufio.NewReader(in)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("idle clients: spec: %w", err)
	}
	var spec IdleSpec
	if err := json.Unmarshal(line, &spec); err != nil {
		return fmt.Errorf("idle clients: spec: %w", err)
	}
	leg, err := spec.leg()
	if err != nil {
		return err
	}
	var clients []*Client
	defer func() { closeAll(clients) }()
	for {
		cmd, err := r.ReadString('\n')
		if err != nil {
			return nil
		}
		switch f := strings.Fields(cmd); {
		case len(f) == 2 && f[0] == "open":
			n, _ := strconv.Atoi(f[1])
			var res IdleResult
			opened := openIdle(context.Background(), leg, n, spec.Parallel, spec.Fetch, &res)
			clients = append(clients, opened...)
			reply := idleReply{Opened: len(opened), Failures: res.Failures}
			if res.FirstError != nil {
				reply.FirstError = res.FirstError.Error()
			}
			data, _ := json.Marshal(reply)
			fmt.Fprintf(out, "%s\n", data)
		case len(f) == 1 && f[0] == "close":
			closeAll(clients)
			clients = nil
			fmt.Fprintln(out, "closed")
		default:
			return fmt.Errorf("idle clients: unknown command %q", cmd)
		}
	}
}

// leg logs in round-robin over the spec's accounts.
func (s *IdleSpec) leg() (Leg, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CAPEM) {
		return Leg{}, errors.New("idle clients: no CA certificate")
	}
	p := &Proxy{Addr: s.Addr, TLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	var legs []Leg
	for _, a := range s.Accounts {
		legs = append(legs, viaProxy(p, a, 0))
	}
	if len(legs) == 0 {
		return Leg{}, errors.New("idle clients: no accounts")
	}
	var next atomic.Int64
	return Leg{Name: "oauthbridge", Open: func(ctx context.Context) (*Client, error) {
		return legs[next.Add(1)%int64(len(legs))].Open(ctx)
	}}, nil
}

func closeAll(cs []*Client) {
	for _, c := range cs {
		c.Close()
	}
}

// IdleClients is a running idle-client process.
type IdleClients struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	done chan struct{}
}

// StartIdleClients runs self (this program, which must serve
// ServeIdleClients under arg) with spec.
func StartIdleClients(self string, arg string, spec IdleSpec) (*IdleClients, error) {
	c := &IdleClients{cmd: exec.Command(self, arg), done: make(chan struct{})}
	c.cmd.Stderr = os.Stderr
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := c.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c.in, c.out = in, bufio.NewReader(out)
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start idle clients: %w", err)
	}
	go func() { c.cmd.Wait(); close(c.done) }()
	data, _ := json.Marshal(spec)
	if _, err := fmt.Fprintf(c.in, "%s\n", data); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// Open opens n more sessions and waits until each is idling or failed.
func (c *IdleClients) Open(n int) (idleReply, error) {
	var r idleReply
	if _, err := fmt.Fprintf(c.in, "open %d\n", n); err != nil {
		return r, err
	}
	line, err := c.out.ReadBytes('\n')
	if err != nil {
		return r, fmt.Errorf("idle clients: %w", err)
	}
	return r, json.Unmarshal(line, &r)
}

// CloseSessions closes every session.
func (c *IdleClients) CloseSessions() error {
	if _, err := fmt.Fprintln(c.in, "close"); err != nil {
		return err
	}
	_, err := c.out.ReadString('\n')
	return err
}

// Stop ends the process: end of input, then SIGKILL by pid after 10 s.
func (c *IdleClients) Stop() {
	c.in.Close()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

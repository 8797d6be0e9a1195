package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Leg is one way of reaching the mailbox: through oauthbridge or
// directly.
type Leg struct {
	Name string
	// Open returns a logged-in client.
	Open func(ctx context.Context) (*Client, error)
}

// ThroughputResult compares a bulk FETCH through the proxy with the same
// FETCH directly, measured in alternating blocks so that load from other
// processes falls on both alike.
type ThroughputResult struct {
	Bytes                 int64 // per leg
	Direct, Proxy         time.Duration
	ProxyCPU              time.Duration // the proxy process, during its leg
	BenchCPUDirect        time.Duration // client and upstream, this process
	BenchCPUProxy         time.Duration
	MachineBusy           float64 // share of all CPUs busy during the run
	OtherCPU              time.Duration
	Suite                 uint16
	MessageSize, Messages int
}

// DirectRate and ProxyRate are bytes per second.
func (r ThroughputResult) DirectRate() float64 { return float64(r.Bytes) / r.Direct.Seconds() }

// ProxyRate is the proxied leg's bytes per second.
func (r ThroughputResult) ProxyRate() float64 { return float64(r.Bytes) / r.Proxy.Seconds() }

// CPUPerGiB is the proxy's CPU time per GiB relayed.
func (r ThroughputResult) CPUPerGiB() time.Duration {
	return time.Duration(float64(r.ProxyCPU) * float64(1<<30) / float64(r.Bytes))
}

// Throughput FETCHes the whole bulk mailbox (messages of size bytes)
// over each leg until total bytes went through each, in blocks.
func Throughput(ctx context.Context, direct, proxied Leg, proxyPid int, total int64, messages, size int) (ThroughputResult, error) {
	res := ThroughputResult{MessageSize: size, Messages: messages}
	dc, err := openBulk(ctx, direct)
	if err != nil {
		return res, err
	}
	defer dc.Close()
	pc, err := openBulk(ctx, proxied)
	if err != nil {
		return res, err
	}
	defer pc.Close()
	res.Suite = pc.CipherSuite()
	fetch := "FETCH 1:" + strconv.Itoa(messages) + " BODY.PEEK[]"
	const blocks = 4
	perBlock := total / blocks
	m0 := ReadMachine()
	for range blocks {
		n, wall, cpu, _, err := fetchFor(dc, fetch, perBlock, 0)
		if err != nil {
			return res, fmt.Errorf("direct fetch: %w", err)
		}
		res.Direct += wall
		res.BenchCPUDirect += cpu
		res.Bytes += n
		_, wall, cpu, pcpu, err := fetchFor(pc, fetch, n, proxyPid)
		if err != nil {
			return res, fmt.Errorf("fetch through oauthbridge: %w", err)
		}
		res.Proxy += wall
		res.BenchCPUProxy += cpu
		res.ProxyCPU += pcpu
	}
	m := ReadMachine().Sub(m0)
	res.MachineBusy = float64(m.Busy) / float64(m.Total)
	res.OtherCPU = m.Busy - res.ProxyCPU - res.BenchCPUDirect - res.BenchCPUProxy
	return res, nil
}

// openBulk logs in over leg, selects INBOX and fetches once to warm up
// (TLS record sizes ramp up, buffers grow).
func openBulk(ctx context.Context, leg Leg) (*Client, error) {
	c, err := leg.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", leg.Name, err)
	}
	if _, err := c.Do("SELECT INBOX"); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: select: %w", leg.Name, err)
	}
	if _, err := c.Do("FETCH 1 BODY.PEEK[]"); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: warm-up fetch: %w", leg.Name, err)
	}
	return c, nil
}

// fetchFor repeats fetch until at least want literal bytes came, and
// returns them with the wall time, this process's CPU time and, when pid
// is set, that process's CPU time.
func fetchFor(c *Client, fetch string, want int64, pid int) (int64, time.Duration, time.Duration, time.Duration, error) {
	var p0 ProcStat
	if pid != 0 {
		p0, _ = ReadProc(pid)
	}
	c0, start := SelfCPU(), time.Now()
	var got int64
	for got < want {
		n, err := c.Do(fetch)
		got += n
		if err != nil {
			return got, 0, 0, 0, err
		}
	}
	wall, cpu := time.Since(start), SelfCPU()-c0
	var pcpu time.Duration
	if pid != 0 {
		p1, _ := ReadProc(pid)
		pcpu = p1.CPU - p0.CPU
	}
	return got, wall, cpu, pcpu, nil
}

package bench

import (
	"crypto/tls"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Report is one run's results.
type Report struct {
	Config  Config
	Machine Machine
	Pinned  bool
	// FileLimit is set when RLIMIT_NOFILE capped the idle sessions.
	FileLimit          uint64
	Started            time.Time
	LoadStart, LoadEnd string

	Cold                *ColdResult
	Throughput          *ThroughputResult
	TLSWork             time.Duration // per GiB: one decrypt + one encrypt
	PlainRelay          time.Duration // per GiB: read + write through a process, no TLS
	Latency             *LatencyResult
	Storm, StormRefused *StormResult
	Idle                *IdleResult
}

// Row is one line of the table: a figure beside its reference and target.
type Row struct {
	What, Measured, Reference, Target, Verdict string
}

// Verdicts.
const (
	Met    = "met"
	Missed = "MISSED"
	Info   = "-"
)

func verdict(ok bool) string {
	if ok {
		return Met
	}
	return Missed
}

// Rows turns the results into table rows, in the order.
func (r *Report) Rows() []Row {
	var rows []Row
	rows = append(rows, r.throughputRows()...)
	rows = append(rows, r.latencyRows()...)
	rows = append(rows, r.idleRows()...)
	rows = append(rows, r.stormRows()...)
	rows = append(rows, r.coldRows()...)
	return rows
}

func (r *Report) throughputRows() []Row {
	t := r.Throughput
	if t == nil {
		return nil
	}
	ratio := t.ProxyRate() / t.DirectRate()
	cpuRatio := float64(t.CPUPerGiB()) / float64(r.TLSWork)
	return []Row{
		{fmt.Sprintf("1. Relay throughput, FETCH of %d x %d MiB, %s per leg, TLS both legs", t.Messages, t.MessageSize>>20, gib(t.Bytes)),
			mibps(t.ProxyRate()), "direct: " + mibps(t.DirectRate()),
			">= 90% of direct", fmt.Sprintf("%s (%.0f%%)", verdict(ratio >= 0.9), 100*ratio)},
		{"1. Proxy CPU per GiB relayed (" + tls.CipherSuiteName(t.Suite) + ")",
			secs(t.CPUPerGiB()), fmt.Sprintf("TLS work (1 decrypt + 1 encrypt): %s; plain TCP relay, no TLS: %s; sum %s",
				secs(r.TLSWork), secs(r.PlainRelay), secs(r.TLSWork+r.PlainRelay)),
			"<= 1.5x TLS work", fmt.Sprintf("%s (%.2fx)", verdict(cpuRatio <= 1.5), cpuRatio)},
	}
}

func (r *Report) latencyRows() []Row {
	l := r.Latency
	if l == nil {
		return nil
	}
	var rows []Row
	for _, q := range []struct {
		name  string
		q     float64
		limit time.Duration
	}{{"p50", 0.5, 2 * time.Millisecond}, {"p99", 0.99, 10 * time.Millisecond}} {
		added := l.Proxy.Quantile(q.q) - l.Direct.Quantile(q.q)
		rows = append(rows, Row{
			fmt.Sprintf("2. Login connect-to-OK %s at %d/s (warm token, cached verifier; %d+%d logins)", q.name, l.Rate, len(l.Proxy), len(l.Direct)),
			ms(l.Proxy.Quantile(q.q)), "direct XOAUTH2: " + ms(l.Direct.Quantile(q.q)),
			"added <= " + ms(q.limit), fmt.Sprintf("%s (+%s)", verdict(added <= q.limit && l.ProxyFailures == 0), ms(added))})
	}
	return rows
}

func (r *Report) idleRows() []Row {
	i := r.Idle
	if i == nil {
		return nil
	}
	busy := i.States["running"] + i.States["runnable"]
	what := fmt.Sprintf("%d in IDLE", i.Sessions)
	if r.Config.IdleFetch > 0 {
		what += fmt.Sprintf(", each after fetching %d KiB", r.Config.IdleFetch>>10)
	}
	memory := Row{fmt.Sprintf("3. Resident memory per idle session (%s, both TLS legs; RSS delta / N, settled)", what),
		kib(i.RSSPerSessionAll()), fmt.Sprintf("second half alone: %s; 3 s after setup, no GC: %s; Go heap in use %s + stacks %s",
			kib(i.RSSPerSession()), kib(i.RSSPerSessionNoGC()),
			kib(i.MemPerSession("HeapInuse")), kib(i.MemPerSession("Stack"))),
		"<= 48 KiB", verdict(i.RSSPerSessionAll() <= 48*1024 && i.Failures == 0)}
	if r.Config.Quick {
		memory.Measured, memory.Reference, memory.Verdict = "not measured", "-quick does not wait for settled memory", Info
	}
	idleShare := float64(i.IdleCPU) / float64(i.Window)
	return []Row{
		memory,
		{"3. Goroutines per idle session", fmt.Sprintf("%.2f", i.GoroutinesPerSession()),
			fmt.Sprintf("states: %s; after close: %d (before: %d)", states(i.States), i.GoAfter, i.GoBefore),
			"none busy", verdict(busy <= 2)},
		{fmt.Sprintf("3. Proxy CPU while %d sessions idle", i.Sessions), fmt.Sprintf("%s in %s (%.2f%% of a core)", ms(i.IdleCPU), i.Window, 100*idleShare),
			fmt.Sprintf("%d threads", i.IdleGC.Threads), "~0", verdict(idleShare < 0.01)},
	}
}

func (r *Report) stormRows() []Row {
	var rows []Row
	for _, s := range []struct {
		name string
		r    *StormResult
	}{{"token expired by the clock", r.Storm}, {"token refused upstream", r.StormRefused}} {
		if s.r == nil {
			continue
		}
		rows = append(rows, Row{
			fmt.Sprintf("4. Refresh storm (%s): IdP refreshes for %d concurrent logins", s.name, s.r.Logins),
			fmt.Sprint(s.r.Refreshes), fmt.Sprintf("%d failed", s.r.Failures), "exactly 1", verdict(s.r.Refreshes == 1)},
			Row{"4. ... all logged in, after the refresh", ms(s.r.AfterRefresh),
				fmt.Sprintf("from storm start: %s; per login p50 %s, max %s", ms(s.r.AllDone), ms(s.r.Times.Quantile(0.5)), ms(s.r.Times.Quantile(1))),
				"<= 2 s", verdict(s.r.AfterRefresh <= 2*time.Second && s.r.Failures == 0)})
	}
	return rows
}

func (r *Report) coldRows() []Row {
	c := r.Cold
	if c == nil {
		return nil
	}
	return []Row{{
		fmt.Sprintf("5. Cold login: Argon2id t=%d m=%d MiB p=%d, one derivation", c.Params.Time, c.Params.MemoryKiB>>10, c.Params.Threads),
		ms(c.KDF), fmt.Sprintf("first login through proxy p50 %s vs repeat %s", ms(c.Cold.Quantile(0.5)), ms(c.Warm.Quantile(0.5))),
		"(cost, by design)", Info}}
}

// Markdown writes the table.
func (r *Report) Markdown(w io.Writer) {
	fmt.Fprintf(w, "| Measure | oauthbridge | Reference, same run | Target | Verdict |\n|---|---|---|---|---|\n")
	for _, row := range r.Rows() {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", row.What, row.Measured, row.Reference, row.Target, row.Verdict)
	}
	m := r.Machine
	fmt.Fprintf(w, "\nMachine: %d CPUs, %s, %s RAM, Linux %s, %s. Load average %s at start, %s at end.",
		m.CPUs, m.Model, m.MemTotal, m.Kernel, m.Go, r.LoadStart, r.LoadEnd)
	if r.Pinned {
		fmt.Fprintf(w, " Client and upstream pinned to CPU 0, oauthbridge to CPU 1.")
	}
	if len(r.Config.ProxyEnv) > 0 {
		fmt.Fprintf(w, " oauthbridge environment: %s.", strings.Join(r.Config.ProxyEnv, " "))
	}
	if r.FileLimit != 0 {
		fmt.Fprintf(w, " Idle sessions capped by the open-file limit of %d (a relayed session holds 2 descriptors in the proxy).", r.FileLimit)
	}
	fmt.Fprintln(w)
	r.notes(w)
}

// notes says how busy the machine was, which decides whether the proxy
// had its core to spare.
func (r *Report) notes(w io.Writer) {
	if t := r.Throughput; t != nil {
		fmt.Fprintf(w, "Throughput run: machine %.0f%% busy; CPU: proxy %s, bench (client+upstream) direct %s / proxied %s, other processes %s.\n",
			100*t.MachineBusy, secs(t.ProxyCPU), secs(t.BenchCPUDirect), secs(t.BenchCPUProxy), secs(t.OtherCPU))
	}
	if l := r.Latency; l != nil {
		fmt.Fprintf(w, "Latency run: machine %.0f%% busy; failures: proxy %d, direct %d", 100*l.MachineBusy, l.ProxyFailures, l.DirectFailures)
		if l.FirstError != nil {
			fmt.Fprintf(w, " (first: %v)", l.FirstError)
		}
		fmt.Fprintln(w, ".")
	}
	if i := r.Idle; i != nil {
		fmt.Fprintf(w, "Idle run: %d sessions opened in %s, %d failed", i.Sessions, i.Setup.Round(time.Millisecond), i.Failures)
		if i.FirstError != nil {
			fmt.Fprintf(w, " (first: %v)", i.FirstError)
		}
		fmt.Fprintf(w, "; RSS %s before, %s with %d after GC, %s with all 3 s after setup, %s with all after GC.\n",
			mib(i.Before.RSS), mib(i.Half.RSS), i.HalfSessions, mib(i.Idle.RSS), mib(i.IdleGC.RSS))
	}
	for _, s := range []*StormResult{r.Storm, r.StormRefused} {
		if s != nil && s.FirstError != nil {
			fmt.Fprintf(w, "Storm: first failure: %v\n", s.FirstError)
		}
	}
}

func states(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return m[b] - m[a] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

func mibps(bps float64) string { return fmt.Sprintf("%.0f MiB/s", bps/(1<<20)) }
func secs(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
func kib(b float64) string      { return fmt.Sprintf("%.1f KiB", b/1024) }
func mib(b int64) string        { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
func gib(b int64) string        { return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30)) }

package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"
)

// Config chooses what Run measures and how hard.
type Config struct {
	// Bin is the oauthbridge binary to run (see Build).
	Bin string
	// Bytes is how much each leg of the throughput test fetches.
	Bytes int64
	// MessageSize and Messages shape the bulk mailbox.
	MessageSize, Messages int
	// Rate and LatencyFor: logins per second, and seconds per leg.
	Rate       int
	LatencyFor time.Duration
	// IdleSessions and IdleWindow: concurrent IDLE sessions, and how long
	// their CPU use is watched.
	IdleSessions int
	IdleWindow   time.Duration
	// IdleFetch, when set, is the size of a message each idle session
	// fetches before IDLE, as a client syncing first would: crypto/tls
	// keeps its record buffers at their largest afterwards.
	IdleFetch int
	// StormLogins is the number of concurrent logins after expiry.
	StormLogins int
	// ColdAccounts get one first (key-derivation) login each.
	ColdAccounts int
	// Quick skips waiting for settled memory readings (CI).
	Quick bool
	// ProxyEnv is added to oauthbridge's environment (GOGC=50, say).
	ProxyEnv []string
	// Pin puts this process (client and upstream) on CPU 0 and the proxy
	// on CPU 1, so that the proxy has a core to itself.
	Pin bool
	// Skip names scenarios not to run: throughput, latency, storm, idle,
	// cold.
	Skip map[string]bool
	// ProfileDir, when set, receives the proxy's CPU profile during an
	// extra proxied FETCH and its heap and goroutine profiles while idle.
	ProfileDir string
	// Self is this program, and IdleClientArg the argument that makes it
	// serve ServeIdleClients: the idle sessions' clients run there.
	Self, IdleClientArg string
	// Progress receives a line as each step starts; nil discards.
	Progress io.Writer
}

// Run builds the world, runs the scenarios and returns their results.
func Run(ctx context.Context, tb *TB, cfg Config) (*Report, error) {
	rep := &Report{Config: cfg, Machine: DescribeMachine(), LoadStart: LoadAvg(), Started: time.Now()}
	progress := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "bridgebench: "+format+"\n", args...)
		}
	}
	limit, err := RaiseFileLimit(uint64(cfg.IdleSessions)*2 + 256)
	if err != nil {
		return nil, err
	}
	// The proxy holds two descriptors per session, plus a few of its own.
	if max := int(limit-64) / 2; cfg.IdleSessions > max {
		progress("idle sessions: %d, not %d: the open-file limit is %d", max, cfg.IdleSessions, limit)
		cfg.IdleSessions = max
		rep.FileLimit = limit
	}
	cpus := ""
	if cfg.Pin && rep.Machine.CPUs >= 2 {
		if err := PinSelf(0); err != nil {
			return nil, err
		}
		cpus = "1"
		rep.Pinned = true
	}
	w := NewWorld(tb, 2+cfg.ColdAccounts)
	progress("filling the bulk mailbox (%d x %d KiB)", cfg.Messages, cfg.MessageSize>>10)
	if err := w.FillBulk(cfg.Messages, cfg.MessageSize); err != nil {
		return nil, err
	}
	progress("starting oauthbridge %s", cfg.Bin)
	p := StartProxy(tb, w, ProxyOptions{Bin: cfg.Bin, CPUs: cpus, Env: cfg.ProxyEnv, MaxConnections: 1000 + 2*cfg.StormLogins,
		Accounts: append([]Account{w.BulkAccount}, w.Accounts...)})
	s := &scenarios{w: w, p: p, cfg: cfg, rep: rep, progress: progress}
	for _, step := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"cold", s.cold}, {"throughput", s.throughput}, {"latency", s.latency},
		{"storm", s.storm}, {"idle", func(ctx context.Context) error { return s.idle(ctx, tb, cpus) }},
	} {
		if cfg.Skip[step.name] {
			continue
		}
		progress("%s (load average %s)", step.name, LoadAvg())
		if err := step.run(ctx); err != nil {
			return rep, fmt.Errorf("%s: %w", step.name, err)
		}
	}
	rep.LoadEnd = LoadAvg()
	return rep, nil
}

// scenarios runs each measurement against one world and proxy.
type scenarios struct {
	w        *World
	p        *Proxy
	cfg      Config
	rep      *Report
	progress func(string, ...any)
}

// viaProxy logs in as a through oauthbridge with LOGIN.
func viaProxy(p *Proxy, a Account, readBuf int) Leg {
	d := &Dialer{TLS: p.TLS, Timeout: time.Minute, ReadBuffer: readBuf, SpreadSources: true}
	return Leg{Name: "oauthbridge", Open: func(ctx context.Context) (*Client, error) {
		c, err := d.Dial(ctx, p.Addr)
		if err != nil {
			return nil, err
		}
		if err := c.Login(a.Email, a.Password); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}}
}

// direct logs in as a at the upstream itself, with an access token
// minted once, as a mail client holding a token would.
func direct(w *World, a Account, readBuf int) Leg {
	d := &Dialer{TLS: w.UpTLS(), Timeout: time.Minute, ReadBuffer: readBuf}
	token := w.AccessToken(a.Email)
	return Leg{Name: "direct", Open: func(ctx context.Context) (*Client, error) {
		c, err := d.Dial(ctx, w.Up.Addr)
		if err != nil {
			return nil, err
		}
		if err := c.XOAuth2(a.Email, token); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}}
}

func (s *scenarios) cold(ctx context.Context) error {
	r, err := Cold(ctx, s.w.Accounts[2:], func(ctx context.Context, a Account) (*Client, error) {
		return viaProxy(s.p, a, 0).Open(ctx)
	})
	s.rep.Cold = &r
	return err
}

func (s *scenarios) throughput(ctx context.Context) error {
	const bulkBuf = 64 * 1024
	r, err := Throughput(ctx, direct(s.w, s.w.BulkAccount, bulkBuf), viaProxy(s.p, s.w.BulkAccount, bulkBuf),
		s.p.Pid(), s.cfg.Bytes, s.cfg.Messages, s.cfg.MessageSize)
	if err != nil {
		return err
	}
	s.rep.Throughput = &r
	if s.rep.TLSWork, err = TLSWorkPerGiB(r.Suite, time.Second); err != nil {
		return err
	}
	if s.rep.PlainRelay, err = PlainRelayPerGiB(2 * time.Second); err != nil {
		return err
	}
	if s.cfg.ProfileDir != "" {
		return s.profileFetch(ctx, viaProxy(s.p, s.w.BulkAccount, bulkBuf))
	}
	return nil
}

// profileFetch fetches through leg for five seconds while the proxy
// records a CPU profile.
func (s *scenarios) profileFetch(ctx context.Context, leg Leg) error {
	c, err := openBulk(ctx, leg)
	if err != nil {
		return err
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		done <- SaveProfile(s.p.DebugAddr, "profile?seconds=5", filepath.Join(s.cfg.ProfileDir, "relay-cpu.pb.gz"))
	}()
	fetch := "FETCH 1:" + strconv.Itoa(s.cfg.Messages) + " BODY.PEEK[]"
	for end := time.Now().Add(5500 * time.Millisecond); time.Now().Before(end); {
		if _, err := c.Do(fetch); err != nil {
			return err
		}
	}
	return <-done
}

func (s *scenarios) latency(ctx context.Context) error {
	a := s.w.Accounts[0]
	pl := viaProxy(s.p, a, 0)
	if c, err := pl.Open(ctx); err != nil { // warm: verifier and token cached
		return err
	} else {
		c.Close()
	}
	var profiled chan error
	if s.cfg.ProfileDir != "" {
		profiled = make(chan error, 1)
		secs := int(2 * s.cfg.LatencyFor / time.Second)
		go func() {
			profiled <- SaveProfile(s.p.DebugAddr, "profile?seconds="+strconv.Itoa(secs), filepath.Join(s.cfg.ProfileDir, "login-cpu.pb.gz"))
		}()
	}
	r := Latency(ctx, direct(s.w, a, 0), pl, s.cfg.Rate, s.cfg.LatencyFor)
	s.rep.Latency = &r
	if profiled != nil {
		return <-profiled
	}
	return nil
}

func (s *scenarios) storm(ctx context.Context) error {
	a := s.w.Accounts[1]
	leg := viaProxy(s.p, a, 0)
	if err := ExpireSoon(ctx, s.w.IdP, leg, a.Email); err != nil {
		return err
	}
	r := Storm(ctx, s.w.IdP, leg, s.cfg.StormLogins)
	s.rep.Storm = &r
	s.progress("storm after upstream refusal")
	s.w.IdP.Expire(a.Email)
	r2 := Storm(ctx, s.w.IdP, leg, s.cfg.StormLogins)
	s.rep.StormRefused = &r2
	return nil
}

// idle runs on a fresh proxy process, so that memory the earlier
// scenarios left behind cannot hide what the sessions cost.
func (s *scenarios) idle(ctx context.Context, tb *TB, cpus string) error {
	accounts := s.w.Accounts[:2]
	if s.cfg.IdleFetch > 0 {
		for _, a := range accounts {
			if err := s.w.Up.Deliver(a.Email, "INBOX", Message(0, s.cfg.IdleFetch)); err != nil {
				return err
			}
		}
	}
	p := StartProxy(tb, s.w, ProxyOptions{Bin: s.cfg.Bin, CPUs: cpus, Env: s.cfg.ProxyEnv,
		MaxConnections: s.cfg.IdleSessions + 1000, Accounts: accounts})
	defer p.Stop()
	for _, a := range accounts { // first logins: key derivation, caches
		c, err := viaProxy(p, a, 0).Open(ctx)
		if err != nil {
			return err
		}
		c.Close()
	}
	clients, err := StartIdleClients(s.cfg.Self, s.cfg.IdleClientArg,
		IdleSpec{Addr: p.Addr, CAPEM: p.CertPEM, Accounts: accounts, Parallel: 32, Fetch: s.cfg.IdleFetch > 0})
	if err != nil {
		return err
	}
	defer clients.Stop()
	r, err := Idle(clients, IdleOptions{PID: p.Pid(), DebugAddr: p.DebugAddr, Sessions: s.cfg.IdleSessions,
		Window: s.cfg.IdleWindow, ProfileDir: s.cfg.ProfileDir, Quick: s.cfg.Quick})
	s.rep.Idle = &r
	return err
}

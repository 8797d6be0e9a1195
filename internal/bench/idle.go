package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// IdleResult is what n authenticated sessions in IDLE cost the proxy
// process.
type IdleResult struct {
	Sessions, Failures int
	// HalfSessions were open at the Half reading.
	HalfSessions int
	FirstError   error
	Setup        time.Duration
	// Before, Half, Idle, IdleGC and After are readings of the process:
	// before any session, with half of them, with all (3 s after the last
	// login), with all after a collection, and after they were closed.
	// Before, Half and IdleGC follow a collection and wait until the
	// runtime has handed freed memory back: what its periodic collection
	// leaves of an idle process.
	Before, Half, Idle, IdleGC, After ProcStat
	// Goroutines at those moments.
	GoBefore, GoHalf, GoIdle, GoAfter int
	// States counts goroutines by scheduler state while idle.
	States map[string]int
	// MemHalf and MemIdleGC are runtime.MemStats fields at Half and
	// IdleGC.
	MemHalf, MemIdleGC map[string]int64
	// IdleCPU is the process's CPU time over Window with every session
	// idle.
	IdleCPU, Window time.Duration
}

// second is how many sessions opened after the Half reading.
func (r IdleResult) second() float64 { return float64(max(r.Sessions-r.HalfSessions, 1)) }

// RSSPerSession is the resident memory each session of the second half
// added, both readings after a collection: the marginal cost, free of
// whatever the process held before the first session.
func (r IdleResult) RSSPerSession() float64 {
	return float64(r.IdleGC.RSS-r.Half.RSS) / r.second()
}

// RSSPerSessionAll is the resident memory growth from no sessions to all
// of them, after collections, per session.
func (r IdleResult) RSSPerSessionAll() float64 {
	return float64(r.IdleGC.RSS-r.Before.RSS) / float64(max(r.Sessions, 1))
}

// RSSPerSessionNoGC is the same 3 s after the last login, before any
// forced collection.
func (r IdleResult) RSSPerSessionNoGC() float64 {
	return float64(r.Idle.RSS-r.Before.RSS) / float64(max(r.Sessions, 1))
}

// GoroutinesPerSession is the goroutines each session added.
func (r IdleResult) GoroutinesPerSession() float64 {
	return float64(r.GoIdle-r.GoBefore) / float64(max(r.Sessions, 1))
}

// MemPerSession is a MemStats field's marginal growth per session.
func (r IdleResult) MemPerSession(field string) float64 {
	return float64(r.MemIdleGC[field]-r.MemHalf[field]) / r.second()
}

// IdleOptions say what Idle measures.
type IdleOptions struct {
	// PID is the proxy process, DebugAddr its profile listener.
	PID       int
	DebugAddr string
	// Sessions to open, and how long to watch their CPU use.
	Sessions int
	Window   time.Duration
	// ProfileDir, when set, receives heap and goroutine profiles.
	ProfileDir string
	// Quick skips waiting for the runtime to return memory: for CI,
	// which checks for failures and leaks, not for memory figures.
	Quick bool
}

// Idle opens n sessions through the idle clients (LOGIN, SELECT INBOX,
// IDLE), in two halves, and measures the proxy process pid (with its
// debug listener at debugAddr) before, between, while they idle for
// window, and after they are gone. With profileDir set, the idle proxy's
// heap and goroutine profiles are saved there.
func Idle(clients *IdleClients, o IdleOptions) (IdleResult, error) {
	pid, debugAddr, n, window, profileDir := o.PID, o.DebugAddr, o.Sessions, o.Window, o.ProfileDir
	settled := func(pid int, debugAddr string) (ProcStat, int, map[string]int64, error) {
		return settle(pid, debugAddr, o.Quick)
	}
	res := IdleResult{Window: window}
	var err error
	if res.Before, res.GoBefore, _, err = settled(pid, debugAddr); err != nil {
		return res, err
	}
	if err := res.open(clients, n/2); err != nil {
		return res, err
	}
	res.HalfSessions = res.Sessions
	if res.Half, res.GoHalf, res.MemHalf, err = settled(pid, debugAddr); err != nil {
		return res, err
	}
	if err := res.open(clients, n-n/2); err != nil {
		return res, err
	}
	time.Sleep(3 * time.Second) // let the last logins' garbage settle
	if res.Idle, res.GoIdle, _, err = snapshot(pid, debugAddr); err != nil {
		return res, err
	}
	if res.IdleGC, _, res.MemIdleGC, err = settled(pid, debugAddr); err != nil {
		return res, err
	}
	// Idle CPU is watched once the collections and the return of freed
	// memory that follow the logins are over: what remains is the cost of
	// sessions that merely wait.
	p0, _ := ReadProc(pid)
	time.Sleep(window)
	p1, _ := ReadProc(pid)
	res.IdleCPU = p1.CPU - p0.CPU
	if res.States, err = GoroutineStates(debugAddr); err != nil {
		return res, err
	}
	if profileDir != "" {
		SaveProfile(debugAddr, "heap", filepath.Join(profileDir, "idle-heap.pb.gz"))
		SaveProfile(debugAddr, "goroutine?debug=1", filepath.Join(profileDir, "idle-goroutines.txt"))
	}
	if err := clients.CloseSessions(); err != nil {
		return res, err
	}
	time.Sleep(3 * time.Second)
	res.After, res.GoAfter, _, err = snapshot(pid, debugAddr)
	return res, err
}

// open has the idle clients open n more sessions.
func (r *IdleResult) open(clients *IdleClients, n int) error {
	start := time.Now()
	reply, err := clients.Open(n)
	r.Setup += time.Since(start)
	if err != nil {
		return err
	}
	r.Sessions += reply.Opened
	r.Failures += reply.Failures
	if reply.FirstError != "" && r.FirstError == nil {
		r.FirstError = errors.New(reply.FirstError)
	}
	return nil
}

// settle is a snapshot after three collections, once the runtime has
// handed freed memory back (unless quick). Each collection halves at
// most once the stacks that grew during login (TLS handshakes) and are
// now mostly unused; an idle process collects every two minutes, so
// three stand for about six minutes of idling.
func settle(pid int, debugAddr string, quick bool) (ProcStat, int, map[string]int64, error) {
	for range gcRounds {
		if err := ForceGC(debugAddr); err != nil {
			return ProcStat{}, 0, nil, err
		}
	}
	if quick {
		return snapshot(pid, debugAddr)
	}
	if _, err := SettleRSS(pid, debugAddr, 90*time.Second); err != nil {
		return ProcStat{}, 0, nil, err
	}
	return snapshot(pid, debugAddr)
}

// gcRounds is how many collections settled forces.
const gcRounds = 3

func snapshot(pid int, debugAddr string) (ProcStat, int, map[string]int64, error) {
	st, err := ReadProc(pid)
	if err != nil {
		return st, 0, nil, err
	}
	g, err := Goroutines(debugAddr)
	if err != nil {
		return st, 0, nil, err
	}
	mem, err := MemStats(debugAddr)
	return st, g, mem, err
}

// openIdle logs in n sessions and leaves each in IDLE.
func openIdle(ctx context.Context, leg Leg, n, parallel int, fetch bool, res *IdleResult) []*Client {
	var mu sync.Mutex
	var clients []*Client
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := idleSession(ctx, leg, fetch)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Failures++
				if res.FirstError == nil {
					res.FirstError = err
				}
				return
			}
			clients = append(clients, c)
		}()
	}
	wg.Wait()
	return clients
}

// idleSession logs in, selects INBOX, fetches its first message if
// fetch is set (as a client syncing before it idles), and starts IDLE.
func idleSession(ctx context.Context, leg Leg, fetch bool) (*Client, error) {
	c, err := leg.Open(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.Do("SELECT INBOX"); err != nil {
		c.Close()
		return nil, fmt.Errorf("select: %w", err)
	}
	if fetch {
		if _, err := c.Do("FETCH 1 BODY.PEEK[]"); err != nil {
			c.Close()
			return nil, fmt.Errorf("fetch: %w", err)
		}
	}
	if err := c.Idle(); err != nil {
		c.Close()
		return nil, err
	}
	// The session now idles for as long as the measurement lasts.
	c.Raw().SetDeadline(time.Time{})
	return c, nil
}

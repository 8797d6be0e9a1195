package bench

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of CPU times in /proc: 100 on every
// Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// ProcStat is one reading of a process as the kernel sees it.
type ProcStat struct {
	// CPU is user plus system time of all its threads.
	CPU time.Duration
	// RSS is the resident set size in bytes.
	RSS int64
	// Threads counts OS threads.
	Threads int
}

// ReadProc reads /proc/pid/stat and /proc/pid/status.
func ReadProc(pid int) (ProcStat, error) {
	var st ProcStat
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, err
	}
	// The command name is in parentheses and may hold spaces: fields
	// count from the last ')'.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(fields) < 13 {
		return st, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	st.CPU = time.Duration(utime+stime) * clockTick
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		switch {
		case k == "VmRSS" && len(f) > 0:
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			st.RSS = kb * 1024
		case k == "Threads" && len(f) > 0:
			st.Threads, _ = strconv.Atoi(f[0])
		}
	}
	return st, nil
}

func selfPid() int { return os.Getpid() }

// SelfCPU is this process's user plus system time.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// MachineCPU is the busy and total time of all CPUs since boot, from
// /proc/stat, to tell how loaded the machine was during a measurement.
type MachineCPU struct{ Busy, Total time.Duration }

// ReadMachine reads the first line of /proc/stat.
func ReadMachine() MachineCPU {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return MachineCPU{}
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	var m MachineCPU
	for i, s := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseInt(s, 10, 64)
		d := time.Duration(v) * clockTick
		m.Total += d
		if i != 3 && i != 4 { // idle, iowait
			m.Busy += d
		}
	}
	return m
}

// Sub returns the change since an earlier reading.
func (m MachineCPU) Sub(old MachineCPU) MachineCPU {
	return MachineCPU{Busy: m.Busy - old.Busy, Total: m.Total - old.Total}
}

// LoadAvg is the first field of /proc/loadavg.
func LoadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(data))[0]
}

// Goroutines asks the proxy's debug listener how many goroutines it runs.
func Goroutines(debugAddr string) (int, error) {
	body, err := debugGet(debugAddr, "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(body, "\n")
	n, err := strconv.Atoi(strings.TrimPrefix(first, "goroutine profile: total "))
	if err != nil {
		return 0, fmt.Errorf("goroutine profile: %q", first)
	}
	return n, nil
}

// GoroutineStates counts the proxy's goroutines by scheduler state
// ("IO wait", "select", "running", ...), from the full goroutine dump.
func GoroutineStates(debugAddr string) (map[string]int, error) {
	body, err := debugGet(debugAddr, "/debug/pprof/goroutine?debug=2")
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, line := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(line, "goroutine ")
		if !ok {
			continue
		}
		_, state, ok := strings.Cut(rest, "[")
		if !ok {
			continue
		}
		state, _, _ = strings.Cut(state, "]")
		state, _, _ = strings.Cut(state, ",")
		out[state]++
	}
	return out, nil
}

// MemStats reads some of runtime.MemStats from the heap profile's footer.
func MemStats(debugAddr string) (map[string]int64, error) {
	body, err := debugGet(debugAddr, "/debug/pprof/heap?debug=1")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(body, "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "# "), " = ")
		if !ok {
			continue
		}
		// "Stack = inuse / sys" and the like: keep the first figure.
		v, _, _ = strings.Cut(v, " / ")
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, nil
}

func debugGet(addr, path string) (string, error) {
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", path, resp.Status)
	}
	return string(data), nil
}

// ForceGC makes the proxy run a garbage collection (the heap profile's
// gc=1), as its runtime would by itself at the latest two minutes into
// an idle period.
func ForceGC(debugAddr string) error {
	_, err := debugGet(debugAddr, "/debug/pprof/heap?gc=1")
	return err
}

// SettleRSS waits until the proxy's runtime has handed freed memory
// back to the system as far as it ever will (the memory it retains is at
// most 10% over its next GC goal), at most limit, and returns the
// reading then. The runtime releases in steps with pauses of several
// seconds between, so watching RSS alone stops too early.
func SettleRSS(pid int, debugAddr string, limit time.Duration) (ProcStat, error) {
	deadline := time.Now().Add(limit)
	for {
		m, err := MemStats(debugAddr)
		if err != nil {
			return ProcStat{}, err
		}
		retained := m["HeapSys"] - m["HeapReleased"]
		if float64(retained) <= 1.1*float64(m["NextGC"])+(1<<20) || time.Now().After(deadline) {
			return ReadProc(pid)
		}
		time.Sleep(time.Second)
	}
}

// SaveProfile writes one of the proxy's profiles (a path below
// /debug/pprof/, with its query) to file.
func SaveProfile(debugAddr, profile, file string) error {
	body, err := debugGet(debugAddr, "/debug/pprof/"+profile)
	if err != nil {
		return err
	}
	return os.WriteFile(file, []byte(body), 0o644)
}

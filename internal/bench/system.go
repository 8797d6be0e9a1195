package bench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// Machine describes where a run happened.
type Machine struct {
	CPUs     int
	Model    string
	MemTotal string
	Kernel   string
	Go       string
}

// DescribeMachine reads /proc for the CPU model and memory.
func DescribeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		if f := strings.Fields(line); len(f) >= 2 {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}

// RaiseFileLimit lifts RLIMIT_NOFILE towards n for this process and the
// children it starts (10,000 relayed sessions take 20,000 descriptors in
// the proxy): the hard limit too where privilege allows
// (CAP_SYS_RESOURCE), otherwise the soft limit up to the hard one. It
// returns the limit in force.
func RaiseFileLimit(n uint64) (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur >= n {
		return rl.Cur, nil
	}
	want := syscall.Rlimit{Cur: n, Max: max(rl.Max, n)}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
		return n, nil
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("raise open-file limit: %w", err)
	}
	return rl.Cur, nil
}

// PinSelf binds every thread of this process to cpu, and the Go
// scheduler to one P, so that a child pinned elsewhere has a core of its
// own. New threads inherit the binding from the thread that makes them.
func PinSelf(cpu int) error {
	var mask [16]uint64
	mask[cpu/64] = 1 << (cpu % 64)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, _ := strconv.Atoi(t.Name())
		_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid),
			unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask)))
		if e != 0 {
			return fmt.Errorf("pin thread %d to cpu %d: %w", tid, cpu, e)
		}
	}
	runtime.GOMAXPROCS(1)
	return nil
}

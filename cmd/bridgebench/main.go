// Command bridgebench measures oauthbridge against its references in one
// run and prints a table: relay throughput and CPU against a direct
// FETCH and the bare TLS work, login latency against a direct XOAUTH2
// login, the cost of idle sessions, refresh storms, and the cold-login
// key derivation. oauthbridge runs as its own process (the real binary,
// built from this tree) so that its CPU and memory are measured alone;
// the IdP, the XOAUTH2 IMAP server and the clients run in this process,
// all on 127.0.0.1 with TLS on every leg. See BENCHMARKS.md.
//
// This package is wiring only; internal/bench does the work.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/oauthbridge/oauthbridge/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

// options are the command line.
type options struct {
	cfg          bench.Config
	bin, out     string
	gib          float64
	skip, env    string
	quick, guard bool
}

func parse(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("bridgebench", flag.ContinueOnError)
	fs.StringVar(&o.bin, "bin", "", "oauthbridge `binary` to measure (default: build ./cmd/oauthbridge)")
	fs.StringVar(&o.out, "o", "", "also write the Markdown table to `file`")
	fs.Float64Var(&o.gib, "gib", 1, "GiB each throughput leg fetches")
	fs.IntVar(&o.cfg.MessageSize, "msg-size", 8<<20, "bulk message size in bytes")
	fs.IntVar(&o.cfg.Messages, "messages", 8, "messages in the bulk mailbox (each FETCH takes all)")
	fs.IntVar(&o.cfg.Rate, "rate", 100, "logins per second in the latency test")
	fs.DurationVar(&o.cfg.LatencyFor, "latency-for", 10*time.Second, "latency test duration per leg")
	fs.IntVar(&o.cfg.IdleSessions, "idle", 10000, "concurrent IDLE sessions")
	fs.IntVar(&o.cfg.IdleFetch, "idle-fetch", 0, "`bytes`: each idle session first fetches a message this large (0: none)")
	fs.DurationVar(&o.cfg.IdleWindow, "idle-window", 10*time.Second, "how long idle CPU is watched")
	fs.IntVar(&o.cfg.StormLogins, "storm", 1000, "concurrent logins in the refresh storm")
	fs.IntVar(&o.cfg.ColdAccounts, "cold", 3, "accounts whose first login is timed")
	fs.BoolVar(&o.cfg.Pin, "pin", true, "pin client+upstream to CPU 0 and oauthbridge to CPU 1")
	fs.StringVar(&o.env, "proxy-env", "", "space-separated `VAR=value` pairs for oauthbridge's environment (e.g. GOGC=50)")
	fs.StringVar(&o.skip, "skip", "", "comma-separated scenarios to skip: cold,throughput,latency,storm,idle")
	fs.StringVar(&o.cfg.ProfileDir, "profile-dir", "", "save oauthbridge's CPU profile while relaying and heap and goroutine profiles while idle in `dir`")
	fs.BoolVar(&o.quick, "quick", false, "small sizes for CI: 128 MiB, 2 s latency, 500 idle, storm of 200")
	fs.BoolVar(&o.guard, "guard", false, "exit 1 on a gross regression (throughput < half of direct, not exactly one refresh per storm, failed logins)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.quick {
		quick(fs)
		o.cfg.Quick = true
	}
	o.cfg.Bytes = int64(o.gib * (1 << 30))
	o.cfg.Skip = map[string]bool{}
	for _, s := range strings.Split(o.skip, ",") {
		if s != "" {
			o.cfg.Skip[strings.TrimSpace(s)] = true
		}
	}
	o.cfg.ProxyEnv = strings.Fields(o.env)
	o.cfg.Progress = os.Stderr
	return o, nil
}

// quick sets the small sizes of -quick on every flag the command line
// left alone.
func quick(fs *flag.FlagSet) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, v := range map[string]string{"gib": "0.125", "latency-for": "2s", "idle": "500",
		"idle-window": "2s", "storm": "200", "cold": "1", "messages": "4", "msg-size": "4194304"} {
		if !set[name] {
			fs.Set(name, v)
		}
	}
}

// idleClientArg makes this program the idle-client child process.
const idleClientArg = "-idle-client"

func run(ctx context.Context, args []string) (code int) {
	if len(args) == 1 && args[0] == idleClientArg {
		if err := bench.ServeIdleClients(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "bridgebench: %v\n", err)
			return 1
		}
		return 0
	}
	o, err := parse(args)
	if err != nil {
		return 2
	}
	if o.cfg.Self, err = os.Executable(); err != nil {
		fmt.Fprintf(os.Stderr, "bridgebench: %v\n", err)
		return 1
	}
	o.cfg.IdleClientArg = idleClientArg
	tb := bench.NewTB()
	defer tb.Close()
	defer func() {
		if v := recover(); v != nil {
			f, ok := v.(bench.Fatal)
			if !ok {
				panic(v)
			}
			fmt.Fprintf(os.Stderr, "bridgebench: %s\n", f.Msg)
			code = 1
		}
	}()
	if o.cfg.Bin, err = binary(ctx, tb, o.bin); err != nil {
		fmt.Fprintf(os.Stderr, "bridgebench: %v\n", err)
		return 1
	}
	rep, err := bench.Run(ctx, tb, o.cfg)
	if rep != nil {
		printReport(rep, o.out)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bridgebench: %v\n", err)
		return 1
	}
	if o.guard {
		if problems := bench.Guard(rep); len(problems) > 0 {
			fmt.Fprintf(os.Stderr, "bridgebench: regression:\n  %s\n", strings.Join(problems, "\n  "))
			return 1
		}
		fmt.Fprintln(os.Stderr, "bridgebench: guard passed")
	}
	return 0
}

// binary returns the oauthbridge binary: the one given, or a fresh build
// of this module's ./cmd/oauthbridge.
func binary(ctx context.Context, tb *bench.TB, given string) (string, error) {
	if given != "" {
		return filepath.Abs(given)
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", errors.New("run inside the oauthbridge module, or pass -bin")
	}
	fmt.Fprintln(os.Stderr, "bridgebench: building ./cmd/oauthbridge")
	return bench.Build(ctx, filepath.Dir(gomod), tb.TempDir())
}

func printReport(rep *bench.Report, out string) {
	rep.Markdown(os.Stdout)
	if out == "" {
		return
	}
	f, err := os.Create(out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bridgebench: %v\n", err)
		return
	}
	defer f.Close()
	rep.Markdown(f)
}

// Command oauthbridge lets mail clients that only know a user name and a
// password keep working with mail providers that only accept OAuth 2.0.
//
// This package is wiring only: a table of subcommands and their flags,
// calling into the packages that do the work. The logic lives in
// runContext so that tests can run every subcommand in-process.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"go.uber.org/zap/zapcore"
)

// command is one subcommand.
type command struct {
	name    string
	args    string
	summary string
	run     func(ctx context.Context, env *env, args []string) int
}

// commands is the table of subcommands, in the order help lists them.
var commands []command

func init() {
	commands = []command{
		{"serve", "[--config FILE] [--log-level L] [--log-format console|json]", "run the proxy", runServe},
		{"authorize", "ACCOUNT [--config FILE] [--password-stdin] [--flow device|paste]", "obtain and store a token for ACCOUNT from the terminal", runAuthorize},
		{"accounts", "list|show ACCOUNT|revoke ACCOUNT [--config FILE] [--json] [--password-stdin] [--local-only]", "show accounts' state, or revoke one", runAccounts},
		{"doctor", "[ACCOUNT] [--config FILE] [--password-stdin]", "check configuration, providers and mail servers (and an account end to end)", runDoctor},
		{"service", "install [--config FILE] | uninstall | start | stop", "run oauthbridge as a Windows service", runService},
		{"healthcheck", "[--url " + defaultHealthURL + "]", "exit 0 if the running proxy answers its health check (for containers)", runHealthcheck},
		{"version", "", "print the version", runVersion},
		{"help", "", "show this help", runHelp},
	}
}

// env is what a subcommand may touch of the outside world; tests give it
// buffers instead of the terminal.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// ready, when set, is told the bound listener addresses once serve
	// accepts connections (tests use port 0).
	ready func(addrs map[string]string)
	// readPassword reads a password without echo; nil: from the terminal.
	readPassword func(prompt string) ([]byte, error)
	// hup, when set, replaces SIGHUP: each value asks serve to reload.
	hup chan os.Signal
	// logCore, when set, receives serve's log lines too (the Windows event
	// log, when running as a service).
	logCore zapcore.Core
}

func main() {
	if os.Getenv("GOGC") == "" {
		// A proxy with thousands of idle sessions allocates almost nothing
		// per relayed byte; a tighter GC goal keeps resident memory near the
		// live heap (47 vs 53 KiB per idle session, no measurable cost in
		// throughput or latency: BENCHMARKS.md). GOGC still overrides it.
		debug.SetGCPercent(50)
	}
	if isService() {
		os.Exit(runAsService(os.Args[1:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, a second one kills at once instead of
	// waiting for the graceful stop.
	context.AfterFunc(ctx, stop)
	os.Exit(run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}

// run dispatches to a subcommand and returns the process exit code:
// 0 success, 1 failure, 2 usage error.
func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		usage(e.stderr)
		return 2
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	switch args[0] {
	case "-h", "--help", "-help":
		usage(e.stdout)
		return 0
	case "-version", "--version":
		return runVersion(ctx, e, nil)
	}
	fmt.Fprintf(e.stderr, "oauthbridge: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}

func runHelp(_ context.Context, e *env, _ []string) int {
	usage(e.stdout)
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: oauthbridge COMMAND [ARGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
		if c.args != "" {
			fmt.Fprintf(w, "  %-11s   oauthbridge %s %s\n", "", c.name, c.args)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Without --config, serve and authorize read ./oauthbridge.yaml, then the")
	fmt.Fprintln(w, "per-user configuration file; serve starts on built-in defaults if neither exists.")
}

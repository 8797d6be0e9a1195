package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/internal/winservice"
)

// serviceActions are what `oauthbridge service ACTION` can do.
var serviceActions = map[string]func(ctx context.Context, e *env, args []string) error{
	"install":   serviceInstall,
	"uninstall": func(context.Context, *env, []string) error { return winservice.Uninstall(winservice.DefaultName) },
	"start":     func(context.Context, *env, []string) error { return winservice.Start(winservice.DefaultName) },
	"stop": func(ctx context.Context, _ *env, _ []string) error {
		ctx, cancel := context.WithTimeout(ctx, winservice.StopTimeout)
		defer cancel()
		return winservice.Stop(ctx, winservice.DefaultName)
	},
}

// runService registers, removes, starts or stops oauthbridge as a Windows
// service. Elsewhere it says so and exits 2: systemd and launchd have
// their own files in deploy/.
func runService(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || serviceActions[args[0]] == nil {
		fmt.Fprintln(e.stderr, "usage: oauthbridge service install [--config FILE] | uninstall | start | stop")
		return 2
	}
	err := serviceActions[args[0]](ctx, e, args[1:])
	switch {
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, winservice.ErrNotWindows):
		fmt.Fprintln(e.stderr, "oauthbridge service: Windows services exist only on Windows; on Linux use deploy/systemd, on macOS deploy/launchd")
		return 2
	case err != nil:
		fmt.Fprintf(e.stderr, "oauthbridge service %s: %v\n", args[0], err)
		return 1
	}
	if args[0] != "install" {
		fmt.Fprintf(e.stdout, "oauthbridge service %s: done\n", args[0])
	}
	return 0
}

// errUsage: the arguments were wrong; the flag package said why.
var errUsage = errors.New("usage")

// serviceInstall registers this executable to run `serve --config FILE`
// under its virtual account, state under ProgramData, and writes a
// starter configuration to FILE when there is none.
func serviceInstall(_ context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("service install", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	stateDir := config.DefaultStateDir()
	cfgPath := fs.String("config", filepath.Join(stateDir, "oauthbridge.yaml"), "configuration `file` the service reads")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this executable: %w", err)
	}
	cfgFile, err := filepath.Abs(*cfgPath)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	err = winservice.Install(winservice.Config{Exe: exe, Args: []string{"serve", "--config", cfgFile}, StateDir: stateDir})
	if err != nil {
		return err
	}
	wrote, err := writeStarter(cfgFile, stateDir)
	if err != nil {
		return err
	}
	printServiceNext(e.stdout, cfgFile, stateDir, wrote)
	return nil
}

func printServiceNext(w io.Writer, cfgFile, stateDir string, wrote bool) {
	fmt.Fprintf(w, "Installed the %s service (state in %s; only the service and administrators can open it).\n", winservice.DefaultName, stateDir)
	if wrote {
		fmt.Fprintf(w, "Wrote a starter configuration to %s: add your provider and accounts there.\n", cfgFile)
	} else {
		fmt.Fprintf(w, "It reads %s.\n", cfgFile)
	}
	fmt.Fprintln(w, "Then: oauthbridge service start   (it also starts by itself at boot)")
	fmt.Fprintln(w, "Problems are logged to the Windows event log (Event Viewer > Windows Logs > Application, source oauthbridge).")
}

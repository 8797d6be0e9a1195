package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/config"
)

func runServe(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfgPath := fs.String("config", "", "configuration `file` (default ./oauthbridge.yaml, then the per-user file)")
	level := fs.String("log-level", "", "log `level`: debug, info, warn, error (overrides log.level)")
	format := fs.String("log-format", "", "log `format`: console or json (overrides log.format)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "oauthbridge serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, path, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "oauthbridge: %v\n", err)
		return 1
	}
	log, err := newLogger(or(*level, cfg.Log.Level), or(*format, cfg.Log.Format), e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "oauthbridge: %v\n", err)
		return 2
	}
	log = e.teeLogger(log)
	defer log.Sync()
	return serve(ctx, e, cfg, path, log)
}

// serve runs the daemon until ctx ends.
func serve(ctx context.Context, e *env, cfg *config.Config, path string, log *zap.Logger) int {
	log.Info("starting oauthbridge", zap.String("version", versionString()), zap.String("config", or(path, "(built-in defaults)")),
		zap.String("state_dir", cfg.StateDir), zap.Int("providers", len(cfg.Providers)))
	if err := checkPermissions(cfg, path, log); err != nil {
		log.Error("refusing to start", zap.Error(err))
		fmt.Fprintf(e.stderr, "oauthbridge: refusing to start: %v\n", err)
		return 1
	}
	d, err := startDaemon(ctx, cfg, path, log)
	if err != nil {
		log.Error("cannot start", zap.Error(err))
		fmt.Fprintf(e.stderr, "oauthbridge: %v\n", err)
		return 1
	}
	if path == "" {
		tellFirstRun(e, cfg, d, log)
	}
	if e.ready != nil {
		e.ready(d.addrs())
	}
	hup, stopHup := e.hangups()
	d.reloadOnHangup(ctx, hup)
	stopHup()
	// The grace bounds the stop: an IDLE session would otherwise hold it
	// for hours.
	grace := d.current().cfg.ShutdownGrace
	log.Info("stopping", zap.Duration("grace", grace))
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := d.shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutdown", zap.Error(err))
	}
	log.Info("stopped")
	return 0
}

// tellFirstRun writes the starter configuration (if there is none yet) and
// prints the next steps.
func tellFirstRun(e *env, cfg *config.Config, d *daemon, log *zap.Logger) {
	path := defaultStarterPath()
	wrote, err := writeStarter(path, cfg.StateDir)
	if err != nil {
		log.Warn("could not write a starter configuration", zap.Error(err))
	}
	printNextSteps(e.stdout, firstRun{
		stateDir: cfg.StateDir, configPath: path, wroteStarter: wrote,
		certCreated: d.certCreated, addrs: d.addrs(),
	})
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/listener"
	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// daemon is a running proxy: its listeners, HTTP server and the resources
// they share. What a reload replaces lives in a generation.
type daemon struct {
	listeners   []*listener.Server
	http        *httpServer
	closers     []io.Closer
	certCreated bool
	wg          sync.WaitGroup
	log         *zap.Logger

	// path is the configuration file a reload reads ("" for the built-in
	// defaults).
	path     string
	store    tokenstore.Store
	ops      *ops
	certs    certSwitch
	handlers map[string]*swapHandler
	gen      atomic.Pointer[generation]
	stopping atomic.Bool
	flusher  *flusher
	// audit receives one line per login attempt (log.audit); nil: none.
	audit    *zap.Logger
	consents *consentSites
}

// startDaemon builds everything from cfg (read from path) and starts
// listening. On error, whatever was started is stopped again.
func startDaemon(ctx context.Context, cfg *config.Config, path string, log *zap.Logger) (*daemon, error) {
	d := &daemon{log: log, path: path, ops: newOps()}
	if err := d.start(ctx, cfg); err != nil {
		d.closeResources()
		return nil, err
	}
	return d, nil
}

func (d *daemon) start(ctx context.Context, cfg *config.Config) error {
	log := d.log
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("state_dir: %w", err)
	}
	store, err := openStore(cfg)
	if err != nil {
		return err
	}
	d.store = store
	if err := d.openAudit(cfg); err != nil {
		store.Close()
		return err
	}
	warnExposure(cfg, log)
	if d.consents, err = newConsentSites(ctx, store); err != nil {
		store.Close()
		return err
	}
	// Consent sites close first: their pollers may still save to the store.
	d.closers = append(d.closers, d.consents, store)
	g, err := d.newGeneration(ctx, cfg)
	if err != nil {
		return err
	}
	d.handlers = map[string]*swapHandler{}
	for name := range g.handlers {
		d.handlers[name] = &swapHandler{name: name}
	}
	d.install(g)
	d.listeners = buildListeners(cfg, func(name string) proxy.Handler { return d.ops.wrap(d.handlers[name]) },
		d.certs.config(), log)
	if cfg.Listen.HTTP != "" {
		d.http = newHTTPServer(cfg.Listen.HTTP, log, d.mountOps(cfg), d.mountConsent)
	}
	if err := d.listen(); err != nil {
		return err
	}
	d.serveAll()
	d.startOps()
	return nil
}

// listen binds every listener, so that a port in use stops the start with
// a message naming the listener.
func (d *daemon) listen() error {
	for _, l := range d.listeners {
		if err := l.Listen(); err != nil {
			return err
		}
		tlsMode := "starttls"
		if frontEnds[l.Name].implicit {
			tlsMode = "implicit"
		}
		d.log.Info("listening", zap.String("listener", l.Name), zap.Stringer("addr", l.BoundAddr()), zap.String("tls", tlsMode))
	}
	if d.http != nil {
		if err := d.http.listen(); err != nil {
			return fmt.Errorf("listen.http: %w", err)
		}
		d.log.Info("listening", zap.String("listener", "http"), zap.String("addr", d.http.addr()))
	}
	return nil
}

func (d *daemon) serveAll() {
	for _, l := range d.listeners {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			if err := l.Serve(); err != nil {
				d.log.Error("listener stopped", zap.String("listener", l.Name), zap.Error(err))
			}
		}()
	}
	if d.http != nil {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			if err := d.http.serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				d.log.Error("http listener stopped", zap.Error(err))
			}
		}()
	}
}

// addrs returns the bound address of every listener by name.
func (d *daemon) addrs() map[string]string {
	m := map[string]string{}
	for _, l := range d.listeners {
		if a := l.BoundAddr(); a != nil {
			m[l.Name] = a.String()
		}
	}
	if d.http != nil && d.http.addr() != "" {
		m["http"] = d.http.addr()
	}
	return m
}

// shutdown stops accepting everywhere at once, then waits for sessions
// until ctx ends.
func (d *daemon) shutdown(ctx context.Context) error {
	d.stopping.Store(true)
	var wg sync.WaitGroup
	errs := make(chan error, len(d.listeners)+1)
	for _, l := range d.listeners {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- l.Shutdown(ctx) }()
	}
	if d.http != nil {
		errs <- d.http.shutdown(ctx)
	}
	wg.Wait()
	d.wg.Wait()
	close(errs)
	d.stopOps()
	d.closeResources()
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

func (d *daemon) closeResources() {
	for _, l := range d.listeners {
		l.Shutdown(context.Background()) // no-op unless it was listening
	}
	if d.http != nil {
		d.http.close()
	}
	for _, c := range d.closers {
		if c != nil {
			c.Close()
		}
	}
	d.closers = nil
}

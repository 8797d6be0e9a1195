package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/proxy/activity"
	"github.com/oauthbridge/oauthbridge/proxy/admin"
	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// readyProbeAccount is read from the store to check it answers; no real
// account has a name in the .invalid domain (RFC 2606).
const readyProbeAccount = "readyz-probe@oauthbridge.invalid"

// readyTimeout bounds the store probe of one /readyz request.
const readyTimeout = 2 * time.Second

// mountOps adds /metrics, /readyz and the admin page to the HTTP
// listener.
func (d *daemon) mountOps(cfg *config.Config) func(*http.ServeMux) {
	return func(mux *http.ServeMux) {
		mux.Handle("GET /metrics", d.ops.metrics.Handler())
		mux.HandleFunc("GET /readyz", d.readyz)
		page := &admin.Page{Store: d.store, Activity: d.ops.tracker, Password: cfg.Admin.Password.Value(),
			Version: versionString(), Log: d.log}
		page.Mount(mux)
	}
}

// readyz answers 200 when the daemon is not stopping, every listener is
// bound and the token store answers a read in time; 503 and the reason
// otherwise.
func (d *daemon) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := d.ready(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready:", err)
		return
	}
	fmt.Fprintln(w, "ready")
}

func (d *daemon) ready(ctx context.Context) error {
	if d.stopping.Load() {
		return errors.New("stopping")
	}
	for _, l := range d.listeners {
		if l.BoundAddr() == nil {
			return fmt.Errorf("listener %s is not listening", l.Name)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if _, err := d.store.Get(ctx, readyProbeAccount); err != nil && !errors.Is(err, tokenstore.ErrNotFound) {
		return errors.New("token store unreachable")
	}
	return nil
}

// flusher runs the tracker's periodic last-login writes.
type flusher struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startOps starts what runs beside the listeners: accounts metrics and
// the last-login flusher.
func (d *daemon) startOps() {
	d.ops.metrics.WatchAccounts(d.store, d.providerNames)
	ctx, cancel := context.WithCancel(context.Background())
	f := &flusher{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		d.ops.tracker.Run(ctx, func() tokenstore.Store { return d.store }, activity.DefaultFlushInterval, d.log)
	}()
	d.flusher = f
}

// stopOps writes the last logins one final time (before the store
// closes).
func (d *daemon) stopOps() {
	if d.flusher == nil {
		return
	}
	d.flusher.cancel()
	<-d.flusher.done
	d.flusher = nil
}

// providerNames lists the providers of the running configuration.
func (d *daemon) providerNames() []string {
	g := d.current()
	if g == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(g.cfg.Providers))
}

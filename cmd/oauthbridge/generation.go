package main

import (
	"context"
	"crypto/tls"
	"fmt"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/consent"
	"github.com/oauthbridge/oauthbridge/proxy/listener"
)

// generation is everything built from one version of the configuration
// that serves new connections: the login path (providers, broker, login
// service) and a front end per listener. A reload builds the next
// generation beside the running one and swaps it in; sessions keep the
// generation they started with.
type generation struct {
	cfg      *config.Config
	cert     *tls.Config
	handlers map[string]proxy.Handler
	// site is the consent site (nil without an HTTP listener).
	site *consent.Service
}

// newGeneration builds a generation from cfg on the daemon's store.
// Nothing is swapped in yet, so a failure leaves the running one alone.
func (d *daemon) newGeneration(ctx context.Context, cfg *config.Config) (*generation, error) {
	cert, err := d.loadCert(cfg)
	if err != nil {
		return nil, err
	}
	auth, site, err := buildAuth(ctx, cfg, d.store, d.ops.metrics, d.consents, d.audit, d.log)
	if err != nil {
		return nil, err
	}
	handlers := buildHandlers(cfg, auth, d.certs.config(), loginObserver{d.ops}, d.log)
	return &generation{cfg: cfg, cert: cert, handlers: handlers, site: site}, nil
}

// loadCert loads or creates the proxy's certificate.
func (d *daemon) loadCert(cfg *config.Config) (*tls.Config, error) {
	cert, created, err := listener.Certificate(cfg.TLS.Cert, cfg.TLS.Key, cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	if created {
		d.certCreated = true
		d.log.Info("created a self-signed certificate", zap.String("dir", cfg.StateDir))
	}
	return listener.ServerTLSConfig(cert), nil
}

// install makes g serve every new connection.
func (d *daemon) install(g *generation) {
	d.certs.cur.Store(g.cert)
	for _, h := range d.handlers {
		h.cur.Store(g)
	}
	d.gen.Store(g)
}

// current returns the generation serving new connections.
func (d *daemon) current() *generation { return d.gen.Load() }

package main

import (
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/proxy/login"
)

// isLoopbackAddr decides which listeners are reachable only from this
// machine. Tests replace it to treat a loopback alias (127.0.0.2) as the
// network, since they must not bind other addresses.
var isLoopbackAddr = loopbackAddr

// requireTLS is the exposure policy: a listener on any address but
// loopback refuses passwords until TLS is up (STARTTLS, STLS; LOGINDISABLED
// in IMAP), unless its entry sets allow_plaintext_auth. Implicit-TLS
// listeners are encrypted from the first byte anyway.
func requireTLS(fe frontEnd, na config.NamedAddr) bool {
	return !fe.implicit && !isLoopbackAddr(na.Addr) && !na.AllowPlaintextAuth
}

// warnExposure says at start which listeners are reachable from the
// network and how they protect passwords; allow_plaintext_auth is a
// warning, since passwords may then cross the network in clear.
func warnExposure(cfg *config.Config, log *zap.Logger) {
	for _, na := range cfg.Listen.All() {
		fe, ok := frontEnds[na.Name]
		if !ok || isLoopbackAddr(na.Addr) {
			continue
		}
		switch {
		case fe.implicit:
			log.Info("listener reachable from the network, TLS from the first byte", zap.String("listener", na.Name), zap.String("addr", na.Addr))
		case na.AllowPlaintextAuth:
			log.Warn("listener reachable from the network accepts passwords without TLS (allow_plaintext_auth); anyone on the path can read them",
				zap.String("listener", na.Name), zap.String("addr", na.Addr))
		default:
			log.Info("listener reachable from the network refuses passwords before STARTTLS", zap.String("listener", na.Name), zap.String("addr", na.Addr))
		}
	}
}

// openAudit opens the audit stream once for the daemon's life (a reload
// keeps it; changing log.audit needs a restart).
func (d *daemon) openAudit(cfg *config.Config) error {
	audit, closer, err := openAudit(cfg, os.Stdout, os.Stderr)
	if err != nil {
		return fmt.Errorf("log.audit: %w", err)
	}
	d.audit = audit
	if closer != nil {
		d.closers = append(d.closers, closer)
	}
	return nil
}

// openAudit opens the audit stream named by log.audit: a file (appended
// to, created 0600), stderr, stdout, or none. The returned closer is nil
// when there is nothing to close.
func openAudit(cfg *config.Config, stdout, stderr io.Writer) (*zap.Logger, io.Closer, error) {
	switch cfg.Log.Audit {
	case "":
		return nil, nil, nil
	case "stderr":
		return login.NewAuditLogger(stderr), nil, nil
	case "stdout":
		return login.NewAuditLogger(stdout), nil, nil
	}
	f, err := os.OpenFile(cfg.Log.Audit, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, err
	}
	return login.NewAuditLogger(f), f, nil
}

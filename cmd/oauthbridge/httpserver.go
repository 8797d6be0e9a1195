package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"
)

// httpServer serves the small HTTP side of the proxy: a health check, and
// the OAuth redirect target that the authorize command's paste-back flow
// points browsers at. (The consent pages will live here too.)
type httpServer struct {
	srv *http.Server
	mu  sync.Mutex
	ln  net.Listener
}

// newHTTPServer builds the server; each mount adds its routes (metrics,
// readiness, admin page, consent pages).
func newHTTPServer(addr string, log *zap.Logger, mounts ...func(*http.ServeMux)) *httpServer {
	mux := http.NewServeMux()
	for _, m := range mounts {
		m(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	return &httpServer{srv: &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          zap.NewStdLog(log.With(zap.String("listener", "http"))),
	}}
}

func (h *httpServer) listen() error {
	ln, err := net.Listen("tcp", h.srv.Addr)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.ln = ln
	h.mu.Unlock()
	return nil
}

func (h *httpServer) serve() error { return h.srv.Serve(h.ln) }

func (h *httpServer) addr() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ln == nil {
		return ""
	}
	return h.ln.Addr().String()
}

func (h *httpServer) shutdown(ctx context.Context) error {
	err := h.srv.Shutdown(ctx)
	if err != nil {
		h.srv.Close()
	}
	return err
}

// close releases the listener even if serve never ran.
func (h *httpServer) close() {
	h.srv.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ln != nil {
		h.ln.Close()
	}
}

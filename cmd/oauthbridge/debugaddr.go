package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// debugAddrEnv names the environment variable that, set to a loopback
// host:port, serves Go's runtime profiles there (goroutines, heap and
// memory statistics, CPU). It exists so that cmd/bridgebench can count
// goroutines per session and see where memory goes in the real binary.
// It is off unless set, and only loopback addresses are accepted:
// profiles show internals (stack traces, allocation sites), though no
// string contents, so no password or token.
const debugAddrEnv = "OAUTHBRIDGE_DEBUG_ADDR"

func init() {
	addr := os.Getenv(debugAddrEnv)
	if addr == "" {
		return
	}
	if err := serveDebug(addr); err != nil {
		fmt.Fprintf(os.Stderr, "oauthbridge: %s: %v\n", debugAddrEnv, err)
		os.Exit(2)
	}
}

// serveDebug starts the profile listener in the background.
func serveDebug(addr string) error {
	if !loopbackAddr(addr) {
		return fmt.Errorf("%q is not a loopback host:port", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return nil
}

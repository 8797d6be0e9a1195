package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// defaultHealthURL is the liveness endpoint on the default HTTP listener.
const defaultHealthURL = "http://127.0.0.1:8025/healthz"

// healthTimeout bounds the whole check (a variable for tests); a container
// runtime's own timeout is only a backstop.
var healthTimeout = 3 * time.Second

// runHealthcheck asks a running oauthbridge whether it is alive, for
// container health checks on images with no shell or curl: exit 0 on a 2xx
// answer, 1 otherwise (with the reason on stderr).
func runHealthcheck(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	target := fs.String("url", defaultHealthURL, "loopback `URL` to GET")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "oauthbridge healthcheck: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	if err := checkHealth(ctx, *target); err != nil {
		fmt.Fprintf(e.stderr, "oauthbridge healthcheck: %v\n", err)
		return 1
	}
	return 0
}

// checkHealth GETs target, which must be on loopback (the check is about
// this machine or container), and wants a 2xx status. Redirects are not
// followed.
func checkHealth(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q is not an http(s) URL", target)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("only loopback URLs are checked")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: %s", u.Redacted(), resp.Status)
	}
	return nil
}

// Command oauthbridge-healthcheck asks a running oauthbridge whether it is
// healthy, for container HEALTHCHECKs on images that have no shell, curl or
// wget (distroless, scratch). It GETs one loopback URL with a deadline and
// exits 0 on a 2xx answer, 1 otherwise, printing why on stderr.
//
//	oauthbridge-healthcheck [URL]   (default http://127.0.0.1:8025/healthz)
//
// Only loopback URLs are accepted: the check is about this container.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// DefaultURL is oauthbridge's liveness endpoint on its default HTTP port.
const DefaultURL = "http://127.0.0.1:8025/healthz"

// timeout bounds the whole check; Docker's own --timeout is a backstop.
const timeout = 3 * time.Second

func main() {
	target := DefaultURL
	if len(os.Args) > 2 {
		fmt.Fprintln(os.Stderr, "usage: oauthbridge-healthcheck [URL]")
		os.Exit(2)
	}
	if len(os.Args) == 2 {
		target = os.Args[1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := check(ctx, http.DefaultClient, target); err != nil {
		fmt.Fprintln(os.Stderr, "oauthbridge-healthcheck:", err)
		os.Exit(1)
	}
}

// check GETs target and wants a 2xx status.
func check(ctx context.Context, c *http.Client, target string) error {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q is not an http(s) URL", target)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("only loopback URLs are checked")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
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

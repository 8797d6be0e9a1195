package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHealthcheck: exit 0 only for a 2xx from a loopback URL; a refusal,
// an error status, a server that does not answer in time, a redirect, or
// a URL off this machine exit 1 with the reason; bad usage exits 2.
func TestHealthcheck(t *testing.T) {
	healthTimeout = 300 * time.Millisecond
	t.Cleanup(func() { healthTimeout = 3 * time.Second })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte("ok\n"))
		case "/slow":
			<-r.Context().Done()
		case "/moved":
			http.Redirect(w, r, "/healthz", http.StatusFound)
		default:
			http.Error(w, "stopping", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"--url", srv.URL + "/healthz"}, 0, ""},
		{[]string{"--url", srv.URL + "/readyz"}, 1, "503 Service Unavailable"},
		{[]string{"--url", srv.URL + "/slow"}, 1, "deadline exceeded"},
		{[]string{"--url", srv.URL + "/moved"}, 1, "302 Found"},
		{[]string{"--url", "http://127.0.0.1:1/healthz"}, 1, "connection refused"},
		{[]string{"--url", "http://192.0.2.1:8025/healthz"}, 1, "only loopback"},
		{[]string{"--url", "ftp://127.0.0.1/healthz"}, 1, "not an http(s) URL"},
		{[]string{"extra"}, 2, "unexpected argument"},
		{[]string{"--no-such-flag"}, 2, "not defined"},
	} {
		var stdout, stderr strings.Builder
		code := run(context.Background(), append([]string{"healthcheck"}, tc.args...), &env{stdout: &stdout, stderr: &stderr})
		if code != tc.code || !strings.Contains(stderr.String(), tc.inStderr) {
			t.Errorf("healthcheck %v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.inStderr)
		}
	}
}

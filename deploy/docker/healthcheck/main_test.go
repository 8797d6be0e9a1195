package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte("ok\n"))
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		default:
			http.Error(w, "stopping", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		url, wantErr string
	}{
		{srv.URL + "/healthz", ""},
		{srv.URL + "/readyz", "503 Service Unavailable"},
		{srv.URL + "/slow", "deadline exceeded"},
		{"http://127.0.0.1:1/healthz", "connection refused"},
		{"http://192.0.2.1:8025/healthz", "only loopback"},
		{"ftp://127.0.0.1/healthz", "not an http(s) URL"},
		{"::not a url", "not an http(s) URL"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := check(ctx, srv.Client(), tc.url)
		cancel()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.url, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err = %v, want %q", tc.url, err, tc.wantErr)
		}
	}
}

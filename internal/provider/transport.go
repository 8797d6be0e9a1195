package provider

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"time"
)

// HTTP timeouts for talking to the IdP. A token request that takes longer
// than HTTPTimeout is failed (and the stored refresh token kept), so a
// hanging IdP cannot hold a mail client's login forever.
var (
	HTTPTimeout         = 30 * time.Second
	dialTimeout         = 10 * time.Second
	tlsHandshakeTimeout = 10 * time.Second
	responseTimeout     = 20 * time.Second
)

// newHTTPClient returns a client with timeouts that trusts roots (nil:
// the system roots).
func newHTTPClient(roots *x509.CertPool) *http.Client {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseTimeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Timeout: HTTPTimeout, Transport: t}
}

// lazyTransport resolves discovery placeholders in request URLs, running
// discovery when needed, and passes everything to next.
type lazyTransport struct {
	p    *Provider
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *lazyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != placeholderScheme {
		return t.next.RoundTrip(req)
	}
	real, err := t.p.realURL(req.Context(), req.URL)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	r := req.Clone(req.Context())
	r.URL = real
	r.Host = ""
	if real.Scheme != "https" && real.Scheme != "http" {
		closeBody(req)
		return nil, fmt.Errorf("provider %s: endpoint %s is not http(s)", t.p.Name, real.Redacted())
	}
	return t.next.RoundTrip(r)
}

// closeBody honours RoundTrip's contract to close the body on error.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

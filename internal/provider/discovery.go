package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// RetryInterval is the least time between two discovery attempts after a
// failure, so that logins during an IdP outage do not hammer it.
var RetryInterval = 10 * time.Second

// ErrDiscovery is wrapped by every discovery failure.
var ErrDiscovery = errors.New("OIDC discovery failed")

// discoveryDoc holds the parts of OpenID Provider Metadata (OpenID Connect
// Discovery 1.0 section 3, RFC 8414, RFC 8628 section 4) oauthbridge uses.
type discoveryDoc struct {
	Issuer                      string   `json:"issuer"`
	AuthorizationEndpoint       string   `json:"authorization_endpoint"`
	TokenEndpoint               string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
	UserinfoEndpoint            string   `json:"userinfo_endpoint"`
	RevocationEndpoint          string   `json:"revocation_endpoint"`
	TokenAuthMethods            []string `json:"token_endpoint_auth_methods_supported"`
}

// discovery fetches and caches an issuer's metadata. A success is kept for
// the life of the process (endpoints do not move in practice; a restart
// picks up changes); a failure is remembered for RetryInterval.
type discovery struct {
	issuer string
	client *http.Client

	mu      sync.Mutex
	doc     *discoveryDoc
	lastErr error
	lastTry time.Time
}

func newDiscovery(issuer string, client *http.Client) *discovery {
	return &discovery{issuer: issuer, client: client}
}

// cached returns the document if discovery has succeeded.
func (d *discovery) cached() *discoveryDoc {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.doc
}

// get returns the document, fetching it unless a recent attempt failed.
// Concurrent callers wait for one fetch.
func (d *discovery) get(ctx context.Context) (*discoveryDoc, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.doc != nil {
		return d.doc, nil
	}
	if d.lastErr != nil && time.Since(d.lastTry) < RetryInterval {
		return nil, d.lastErr
	}
	d.lastTry = time.Now()
	doc, err := d.fetch(ctx)
	if err != nil {
		d.lastErr = err
		return nil, err
	}
	d.doc, d.lastErr = doc, nil
	return doc, nil
}

func (d *discovery) fetch(ctx context.Context) (*discoveryDoc, error) {
	u := strings.TrimSuffix(d.issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDiscovery, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDiscovery, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: %s", ErrDiscovery, u, resp.Status)
	}
	var doc discoveryDoc
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDiscovery, u, err)
	}
	return &doc, d.check(&doc)
}

// check applies the rules of Discovery section 4.3: the document must be
// about the issuer that was asked (so a misconfigured proxy cannot send
// tokens elsewhere), and it must name a token endpoint.
func (d *discovery) check(doc *discoveryDoc) error {
	if strings.TrimSuffix(doc.Issuer, "/") != strings.TrimSuffix(d.issuer, "/") {
		return fmt.Errorf("%w: document is for issuer %q, not %q", ErrDiscovery, doc.Issuer, d.issuer)
	}
	if doc.TokenEndpoint == "" {
		return fmt.Errorf("%w: document has no token_endpoint", ErrDiscovery)
	}
	return nil
}

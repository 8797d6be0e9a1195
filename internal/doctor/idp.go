package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/oauthbridge/oauthbridge/internal/provider"
)

// IdP checks that the provider's identity provider answers: discovery
// (for an issuer) and its token endpoint, over HTTPS with the provider's
// trust settings. Any HTTP answer from the token endpoint passes: an
// empty request is expected to be refused.
func IdP(ctx context.Context, p *provider.Provider) (string, error) {
	eps, err := p.Endpoints(ctx)
	if err != nil {
		return "", withHint(err, "%s", netHint(err, "the issuer's discovery document"))
	}
	if eps.TokenURL == "" {
		return "", withHint(errors.New("no token endpoint"), "set token_url, or an issuer whose discovery document names one")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, eps.TokenURL, strings.NewReader(""))
	if err != nil {
		return "", withHint(err, "check token_url")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.HTTPClient.Do(req)
	if err != nil {
		return "", withHint(cleanURLError(err), "%s", netHint(err, "the token endpoint"))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	u, _ := url.Parse(eps.TokenURL)
	how := "TLS verified"
	if u.Scheme == "http" {
		how = "plain http (loopback only)"
	}
	return fmt.Sprintf("token endpoint %s answered HTTP %d, %s", u.Host, resp.StatusCode, how), nil
}

// netHint says what usually causes a failure to reach what.
func netHint(err error, what string) string {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var dns *net.DNSError
	switch {
	case errors.As(err, &cv), errors.As(err, &ua), errors.As(err, &hn):
		return "the certificate of " + what + " is not trusted or does not match its name: fix the server's certificate, or add its CA with ca_file"
	case errors.As(err, &dns):
		return "the host name of " + what + " does not resolve: check the URL and DNS"
	case errors.Is(err, context.DeadlineExceeded):
		return what + " did not answer in time: check the URL, firewall and proxy settings (HTTPS_PROXY)"
	}
	return what + " cannot be reached: check the URL, that the server runs, the firewall and proxy settings (HTTPS_PROXY)"
}

// cleanURLError drops the URL's query from an http client error (it may
// carry a parameter an operator would rather not see in a report).
func cleanURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			return fmt.Errorf("%s %s: %w", ue.Op, u.Redacted(), ue.Err)
		}
	}
	return err
}

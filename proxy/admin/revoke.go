package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// RevokedReason is the StatusReason of an account an admin revoked.
const RevokedReason = "revoked by an administrator"

// MarkRevoked sets account's status to revoked and drops its sealed
// grant, so that no password can open it again; the next login asks for
// consent. Sessions already open keep running until they end.
func MarkRevoked(ctx context.Context, store tokenstore.Store, account string) error {
	err := store.Update(ctx, account, func(r *tokenstore.Record) error {
		r.Status, r.StatusReason = tokenstore.StatusRevoked, RevokedReason
		r.Sealed, r.AccessExpiry = nil, time.Time{}
		return nil
	})
	if errors.Is(err, tokenstore.ErrNotFound) {
		return fmt.Errorf("%s: %w", account, ErrNoAccount)
	}
	if err != nil {
		return fmt.Errorf("revoke %s: %w", account, err)
	}
	return nil
}

// ErrRevocationRefused: the identity provider answered the revocation
// request with an error.
var ErrRevocationRefused = errors.New("identity provider refused the revocation")

// revokeTimeout bounds one revocation request.
const revokeTimeout = 20 * time.Second

// RevokeToken asks the identity provider's revocation endpoint (RFC 7009)
// to invalidate a refresh token, authenticating as the client in conf
// the way its token endpoint expects. client nil means
// http.DefaultClient. A 200 answer is success (RFC 7009 section 2.2:
// also for a token that was already invalid). The error never contains
// the token or the response body.
func RevokeToken(ctx context.Context, client *http.Client, endpoint string, conf *oauth2.Config, token string) error {
	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	req, err := revokeRequest(ctx, endpoint, conf, token)
	if err != nil {
		return err
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("revoke at %s: %s", hostOf(endpoint), scrub(err.Error(), token, conf.ClientSecret))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil
	}
	return fmt.Errorf("revoke at %s: %w: HTTP %d%s", hostOf(endpoint), ErrRevocationRefused, resp.StatusCode, errorCode(resp.Body))
}

func revokeRequest(ctx context.Context, endpoint string, conf *oauth2.Config, token string) (*http.Request, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}}
	basic := conf.Endpoint.AuthStyle != oauth2.AuthStyleInParams && conf.ClientSecret != ""
	if !basic {
		form.Set("client_id", conf.ClientID)
		if conf.ClientSecret != "" {
			form.Set("client_secret", conf.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("revoke: bad endpoint %s", hostOf(endpoint))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		// RFC 6749 section 2.3.1: both parts form-encoded first.
		req.SetBasicAuth(url.QueryEscape(conf.ClientID), url.QueryEscape(conf.ClientSecret))
	}
	return req, nil
}

// errorCodeSyntax is RFC 6749's error code alphabet; anything else from
// the provider is not repeated.
var errorCodeSyntax = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// errorCode returns " code" from a JSON error answer, or "".
func errorCode(body io.Reader) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.NewDecoder(io.LimitReader(body, 4096)).Decode(&e) != nil || !errorCodeSyntax.MatchString(e.Error) {
		return ""
	}
	return " " + e.Error
}

func hostOf(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "the revocation endpoint"
	}
	return u.Host
}

func scrub(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
			s = strings.ReplaceAll(s, url.QueryEscape(secret), "[redacted]")
		}
	}
	return s
}

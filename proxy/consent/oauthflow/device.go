package oauthflow

import (
	"context"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"
)

// StartDevice asks the provider for a device and user code (RFC 8628
// section 3.1). The user enters UserCode at VerificationURI on any
// device; the DeviceCode inside the answer is a secret of the attempt.
func StartDevice(ctx context.Context, oc *oauth2.Config, client *http.Client) (*oauth2.DeviceAuthResponse, error) {
	if oc.Endpoint.DeviceAuthURL == "" {
		return nil, fmt.Errorf("the provider offers no device authorization")
	}
	var opts []oauth2.AuthCodeOption
	if oc.ClientSecret != "" {
		// RFC 8628 section 3.1: a confidential client authenticates here
		// as at the token endpoint; x/oauth2 sends only client_id. Dex
		// needs it: it redeems the approval with these credentials.
		opts = append(opts, oauth2.SetAuthURLParam("client_secret", oc.ClientSecret))
	}
	da, err := oc.DeviceAuth(withClient(ctx, client), opts...)
	if err != nil {
		return nil, fmt.Errorf("start device authorization: %w", Describe(err))
	}
	return da, nil
}

// PollDevice waits until the user approved or declined, the code expired
// or ctx ended, polling at the interval the provider asked for (and
// slowing down when told to, RFC 8628 section 3.5).
func PollDevice(ctx context.Context, oc *oauth2.Config, client *http.Client, da *oauth2.DeviceAuthResponse) (*oauth2.Token, error) {
	if !da.Expiry.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, da.Expiry)
		defer cancel()
	}
	tok, err := oc.DeviceAccessToken(withClient(ctx, client), da)
	if err != nil {
		if ctx.Err() != nil && !da.Expiry.IsZero() {
			return nil, ErrExpired
		}
		return nil, fmt.Errorf("device authorization: %w", Describe(err))
	}
	return checkRefresh(tok)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/proxy/consent/oauthflow"
)

// progressEvery is how often the device flow shows that it is still
// waiting.
var progressEvery = 5 * time.Second

// deviceFlow runs the device authorization grant (RFC 8628): the user
// enters a code at the provider on any device while this polls.
func (r *authorizeReq) deviceFlow(ctx context.Context) (*oauth2.Token, error) {
	oc, _, err := r.p.Resolve(ctx, "")
	if err != nil {
		return nil, err
	}
	da, err := oauthflow.StartDevice(ctx, oc, r.p.HTTPClient)
	if err != nil {
		return nil, err
	}
	r.say("To authorize %s, open this page in any browser:\n\n    %s\n\nand enter the code:\n\n    %s\n", r.account, da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		r.say("(or open %s, which fills in the code)\n", da.VerificationURIComplete)
	}
	r.say("Sign in as %s.", r.account)
	stop := r.showProgress(da.Expiry)
	tok, err := oauthflow.PollDevice(ctx, oc, r.p.HTTPClient, da)
	stop()
	if errors.Is(err, oauthflow.ErrDenied) {
		return nil, oauthflow.ErrDenied // in the user's words, not the protocol's
	}
	return tok, err
}

// showProgress prints a dot on stderr every progressEvery until stopped.
func (r *authorizeReq) showProgress(expiry time.Time) (stop func()) {
	msg := "Waiting for you to approve"
	if !expiry.IsZero() {
		msg += fmt.Sprintf(" (the code expires at %s)", expiry.Local().Format("15:04"))
	}
	fmt.Fprint(r.e.stderr, msg)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintln(r.e.stderr)
				return
			case <-t.C:
				fmt.Fprint(r.e.stderr, ".")
			}
		}
	}()
	return func() { close(done); <-finished }
}

// codeFlow runs the authorization code grant with PKCE (RFC 7636). The
// browser ends on the redirect URI (this proxy's callback page, or
// http://127.0.0.1 with --flow paste, which needs nothing listening) and
// the user pastes that address back.
func (r *authorizeReq) codeFlow(ctx context.Context) (*oauth2.Token, error) {
	redirect := redirectURL(r.cfg)
	if r.flow == "paste" || redirect == "" {
		redirect = "http://127.0.0.1"
	}
	oc, _, err := r.p.Resolve(ctx, redirect)
	if err != nil {
		return nil, err
	}
	req, err := oauthflow.NewAuthRequest(oc, r.account, map[string]string{"access_type": "offline", "prompt": "consent"})
	if err != nil {
		return nil, err
	}
	r.nonce = req.Nonce
	r.say("To authorize %s, open this address in a browser and sign in as %s:\n\n    %s\n", r.account, r.account, req.URL)
	r.say("The browser then ends on a page at %s (it may say it cannot connect: that is fine).", redirect)
	r.say("Copy that page's whole address from the address bar and paste it here:")
	line, err := r.readLine(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the pasted address: %w", err)
	}
	code, err := oauthflow.CodeFromRedirect(line, req.State)
	if err != nil {
		return nil, err
	}
	return oauthflow.Exchange(ctx, oc, r.p.HTTPClient, code, req.Verifier)
}

// readLine reads one line from standard input, giving up when ctx ends.
func (r *authorizeReq) readLine(ctx context.Context) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := r.in.ReadString('\n')
		if err != nil && line != "" {
			err = nil // last line without newline
		}
		ch <- result{strings.TrimRight(line, "\r\n"), err}
	}()
	select {
	case res := <-ch:
		return res.line, res.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

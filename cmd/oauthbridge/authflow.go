package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
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
	pctx := r.p.Context(ctx)
	da, err := oc.DeviceAuth(pctx)
	if err != nil {
		return nil, fmt.Errorf("start device authorization: %w", describeOAuthError(err))
	}
	r.say("To authorize %s, open this page in any browser:\n\n    %s\n\nand enter the code:\n\n    %s\n", r.account, da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		r.say("(or open %s, which fills in the code)\n", da.VerificationURIComplete)
	}
	r.say("Sign in as %s.", r.account)
	stop := r.showProgress(da.Expiry)
	tok, err := oc.DeviceAccessToken(pctx, da)
	stop()
	if err != nil {
		return nil, fmt.Errorf("device authorization: %w", describeOAuthError(err))
	}
	return tok, nil
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
	verifier, state := oauth2.GenerateVerifier(), randomState()
	authURL := oc.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline,
		oauth2.SetAuthURLParam("login_hint", r.account), oauth2.SetAuthURLParam("prompt", "consent"))
	r.say("To authorize %s, open this address in a browser and sign in as %s:\n\n    %s\n", r.account, r.account, authURL)
	r.say("The browser then ends on a page at %s (it may say it cannot connect: that is fine).", redirect)
	r.say("Copy that page's whole address from the address bar and paste it here:")
	line, err := r.readLine(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the pasted address: %w", err)
	}
	code, err := codeFromRedirect(line, state)
	if err != nil {
		return nil, err
	}
	tok, err := oc.Exchange(r.p.Context(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchange the code: %w", describeOAuthError(err))
	}
	return tok, nil
}

// codeFromRedirect extracts the code from the pasted redirect address (or
// its query alone) and checks the state, which ties the answer to this
// request (RFC 6749 section 10.12).
func codeFromRedirect(pasted, state string) (string, error) {
	pasted = strings.TrimSpace(pasted)
	query := pasted
	if u, err := url.Parse(pasted); err == nil && u.RawQuery != "" {
		query = u.RawQuery
	}
	v, err := url.ParseQuery(strings.TrimPrefix(query, "?"))
	if err != nil {
		return "", errors.New("that does not look like the address the browser ended on")
	}
	if e := v.Get("error"); e != "" {
		return "", fmt.Errorf("the provider refused: %s %s", e, v.Get("error_description"))
	}
	if v.Get("state") != state {
		return "", errors.New("the pasted address belongs to another authorization attempt (state mismatch); start again")
	}
	code := v.Get("code")
	if code == "" {
		return "", errors.New("the pasted address carries no code")
	}
	return code, nil
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

// describeOAuthError turns x/oauth2's errors into the provider's words.
func describeOAuthError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode == "" {
		return err
	}
	switch re.ErrorCode {
	case "access_denied":
		return errors.New("you declined (access_denied)")
	case "expired_token":
		return errors.New("the code expired before it was approved; start again")
	}
	if re.ErrorDescription != "" {
		return fmt.Errorf("%s: %s", re.ErrorCode, re.ErrorDescription)
	}
	return errors.New(re.ErrorCode)
}

func randomState() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

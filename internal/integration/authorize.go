//go:build integration

package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

var (
	urlRe      = regexp.MustCompile(`https?://[^\s"'<>]+`)
	userCodeRe = regexp.MustCompile(`\b[A-Z0-9]{4}-[A-Z0-9]{4}\b`)
)

// Authorize runs "oauthbridge authorize" for u with the given flow
// ("device" or "paste"), typing u.LocalPassword on stdin, and plays the
// user in a headless browser: for the device flow it opens the
// verification URL the command prints and logs in at Dex; for paste-back
// it opens the authorization URL, stops at the final redirect and pastes
// that URL back. It returns the command's output.
func (b *Bridge) Authorize(ctx context.Context, u User, flow string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.Bin, "authorize", u.Email, "--config", b.ConfigPath,
		"--password-stdin", "--flow", flow)
	cmd.Dir = b.Dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", fmt.Errorf("authorize: %w", err)
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("authorize: %w", err)
	}
	// The command asks for the local password after consent, so in the
	// paste flow the pasted address comes first on stdin; the device flow
	// reads nothing else, and the password can wait in the pipe.
	if flow != "paste" {
		fmt.Fprintln(stdin, u.LocalPassword)
		stdin.Close()
	}
	var out strings.Builder
	var mu sync.Mutex
	browsed := make(chan error, 1)
	go func() {
		browsed <- b.playUser(ctx, cancel, u, flow, pr, stdin, &out, &mu)
	}()
	werr := cmd.Wait()
	pw.Close()
	berr := <-browsed
	mu.Lock()
	text := out.String()
	mu.Unlock()
	if werr != nil {
		return text, fmt.Errorf("oauthbridge authorize %s --flow %s: %w (browser: %v)\n%s", u.Email, flow, werr, berr, text)
	}
	return text, berr
}

// playUser reads the command's output and acts on the first link it offers.
// When the browser part fails it cancels the command (giveUp), so the
// command does not poll the IdP until its own timeout.
func (b *Bridge) playUser(ctx context.Context, giveUp func(), u User, flow string, r io.Reader, stdin io.WriteCloser,
	out *strings.Builder, mu *sync.Mutex) error {
	sc := bufio.NewScanner(r)
	var verify, code string
	acted := false
	var err error
	for sc.Scan() {
		line := sc.Text()
		mu.Lock()
		out.WriteString(line + "\n")
		mu.Unlock()
		if acted {
			continue
		}
		if m := urlRe.FindString(line); m != "" && verify == "" {
			verify = strings.TrimRight(m, ".,;)")
		}
		if m := userCodeRe.FindString(line); m != "" {
			code = m
		}
		if flow == "device" && verify != "" && (code != "" || strings.Contains(verify, "user_code=")) {
			acted = true
			if err = b.deviceLogin(ctx, u, verify, code); err != nil {
				giveUp()
			}
		} else if flow == "paste" && verify != "" {
			acted = true
			if err = pasteBack(ctx, u, verify, stdin); err != nil {
				stdin.Close()
				giveUp()
			}
		}
	}
	if !acted {
		return fmt.Errorf("authorize printed no link to act on")
	}
	return err
}

func (b *Bridge) deviceLogin(ctx context.Context, u User, verify, code string) error {
	target := verify
	if !strings.Contains(verify, "user_code=") {
		v, err := url.Parse(verify)
		if err != nil {
			return fmt.Errorf("verification URL: %w", err)
		}
		q := v.Query()
		q.Set("user_code", code)
		v.RawQuery = q.Encode()
		target = v.String()
	}
	_, err := LoginAtDex(ctx, target, u)
	return err
}

// pasteBack logs in at the authorization URL and pastes the final
// redirect (to a loopback address where nothing listens) into stdin.
func pasteBack(ctx context.Context, u User, authURL string, stdin io.WriteCloser) error {
	br := NewBrowser(map[string]string{"login": u.Email, "password": u.Password})
	br.StopAt = func(v *url.URL) bool { return v.Query().Get("code") != "" || v.Query().Get("error") != "" }
	if _, err := br.Run(ctx, authURL); err != nil {
		return fmt.Errorf("paste-back login: %w (pages %v)", err, br.Pages)
	}
	if br.Stopped == nil {
		return fmt.Errorf("paste-back: never redirected back with a code (pages %v)", br.Pages)
	}
	fmt.Fprintln(stdin, br.Stopped.String())
	fmt.Fprintln(stdin, u.LocalPassword)
	return stdin.Close()
}

//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chrome is one headless Chromium (Debian's package, installed by
// .ci/install-browser) with a fresh profile, driven over the DevTools
// protocol. Every page a scenario looks at can be saved as a screenshot
// under artifacts/screenshots/ at the repository root.
type chrome struct {
	t   *testing.T
	ctx context.Context
	dir string // screenshots
}

// shotCount numbers each test's screenshots across its browsers, in the
// order they were taken.
var shotCount = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

// chromiumPath finds the browser, or "" when it is not installed.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newChrome starts a browser for t; it skips (fails under the CI's
// OAUTHBRIDGE_REQUIRE_INTEGRATION=1) when Chromium is missing. The flags
// keep the closed network from making it retry connections forever.
func newChrome(t *testing.T) *chrome {
	t.Helper()
	bin := chromiumPath()
	if bin == "" {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatal("chromium is not installed: run .ci/install-browser")
		}
		t.Skip("chromium is not installed: run .ci/install-browser")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(480, 1000))
	base, cancelBase := context.WithTimeout(context.Background(), 4*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(base, opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancelBase() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "artifacts", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &chrome{t: t, ctx: ctx, dir: dir}
}

// tab opens another tab of the same browser (same cookies), as a user
// who opens a link in a new tab.
func (c *chrome) tab() *chrome {
	ctx, cancel := chromedp.NewContext(c.ctx)
	c.t.Cleanup(cancel)
	return &chrome{t: c.t, ctx: ctx, dir: c.dir}
}

// do runs actions, failing the test with the page's text on error.
func (c *chrome) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		c.shot("failed-" + what)
		c.t.Fatalf("browser: %s: %v\npage at %s:\n%s", what, err, c.location(), c.text())
	}
}

// text is the visible text of the page.
func (c *chrome) text() string {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return strings.Join(strings.Fields(s), " ")
}

func (c *chrome) location() string {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Location())
	return s
}

// waitText waits until the page's text contains want (pages that refresh
// themselves are reloaded by the browser, not by the test).
func (c *chrome) waitText(want string, d time.Duration) string {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		text := c.text()
		if strings.Contains(text, want) {
			return text
		}
		if time.Now().After(deadline) {
			c.shot("timeout")
			c.t.Fatalf("browser: page never said %q; it says:\n%s", want, text)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// shot saves a PNG of the whole page as NN-test-name.png.
func (c *chrome) shot(name string) {
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Logf("screenshot %s: %v", name, err)
		return
	}
	test := strings.NewReplacer("/", "-", " ", "_").Replace(c.t.Name())
	shotCount.Lock()
	shotCount.n[test]++
	n := shotCount.n[test]
	shotCount.Unlock()
	file := filepath.Join(c.dir, fmt.Sprintf("%s-%02d-%s.png", test, n, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		c.t.Logf("screenshot %s: %v", name, err)
	}
}

// signInAtDex fills Dex's login form as u (Dex skips its approval page in
// the suite's configuration).
func (c *chrome) signInAtDex(u User) {
	c.t.Helper()
	c.do("Dex login form", chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)))
	c.shot("dex-login")
	c.do("sign in at Dex",
		chromedp.SendKeys(chromedp.CSS(`input[name="login"]`), u.Email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), u.Password),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)))
}

// requests records the URLs the tab asks for, so a redirect to an
// address where nothing listens (paste-back) can be read as the user
// reads it off the address bar.
type requests struct {
	mu   sync.Mutex
	urls []string
}

func (c *chrome) recordRequests() *requests {
	r := &requests{}
	err := chromedp.Listen(c.ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Request != nil {
			r.mu.Lock()
			r.urls = append(r.urls, e.Request.URL)
			r.mu.Unlock()
		}
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// wait returns the first recorded URL that re matches.
func (r *requests) wait(t *testing.T, re *regexp.Regexp, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, u := range r.urls {
			if re.MatchString(u) {
				r.mu.Unlock()
				return u
			}
		}
		r.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the browser never requested a URL matching %s", re)
	return ""
}

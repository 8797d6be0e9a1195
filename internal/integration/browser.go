//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Browser drives plain HTML login and consent pages (Dex's device, login
// and approval forms, the proxy's consent page) the way a user would: it
// follows redirects, keeps cookies, and submits each page's form with the
// fields it was given filled in. It runs no JavaScript; the pages it
// drives need none.
type Browser struct {
	// Fields fills form inputs by name (user_code, login, password, ...).
	Fields map[string]string
	// StopAt, if set, ends the walk at the first redirect to a URL it
	// accepts, without fetching it: the paste-back flow's final redirect
	// goes to a loopback address where nothing listens.
	StopAt func(*url.URL) bool
	// Stopped is the URL StopAt accepted.
	Stopped *url.URL
	// Pages are the URLs visited, for error messages.
	Pages []string

	client *http.Client
}

var errStopped = errors.New("stopped at the redirect")

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser(fields map[string]string) *Browser {
	jar, _ := cookiejar.New(nil)
	b := &Browser{Fields: fields}
	b.client = &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			b.Pages = append(b.Pages, r.URL.String())
			if b.StopAt != nil && b.StopAt(r.URL) {
				b.Stopped = r.URL
				return errStopped
			}
			if len(via) > 10 {
				return errors.New("too many redirects")
			}
			return nil
		}}
	return b
}

var (
	formRe   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRe  = regexp.MustCompile(`(?is)<(?:input|button)\b([^>]*)>`)
	attrRe   = regexp.MustCompile(`(?is)([a-z_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
	maxSteps = 8
)

// Run opens start and submits forms until a page without a form (the
// success page, returned as text) or StopAt matches.
func (b *Browser) Run(ctx context.Context, start string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, start, nil)
	if err != nil {
		return "", fmt.Errorf("browser: %w", err)
	}
	b.Pages = append(b.Pages, start)
	for step := 0; step < maxSteps; step++ {
		page, body, err := b.fetch(req)
		if err != nil || b.Stopped != nil {
			return body, err
		}
		next, ok, err := b.submission(ctx, page, body)
		if err != nil || !ok {
			return body, err
		}
		req = next
	}
	return "", fmt.Errorf("browser: still on a form after %d pages: %v", maxSteps, b.Pages)
}

func (b *Browser) fetch(req *http.Request) (*url.URL, string, error) {
	resp, err := b.client.Do(req)
	if b.Stopped != nil {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("browser: %s: %w", req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 400 {
		return nil, string(raw), fmt.Errorf("browser: %s: %s: %s", resp.Request.URL, resp.Status, pageText(string(raw)))
	}
	return resp.Request.URL, string(raw), nil
}

// submission builds the POST of the page's first form; ok is false when
// the page has no form.
func (b *Browser) submission(ctx context.Context, page *url.URL, body string) (*http.Request, bool, error) {
	m := formRe.FindStringSubmatch(body)
	if m == nil {
		return nil, false, nil
	}
	attrs := attrMap(m[1])
	action, err := page.Parse(attrs["action"])
	if err != nil {
		return nil, false, fmt.Errorf("browser: form action %q: %w", attrs["action"], err)
	}
	form := url.Values{}
	for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
		a := attrMap(in[1])
		if a["name"] == "" {
			continue
		}
		if v, ok := b.Fields[a["name"]]; ok {
			form.Set(a["name"], v)
		} else if a["type"] != "submit" || form.Get(a["name"]) == "" {
			form.Set(a["name"], a["value"])
		}
	}
	method := strings.ToUpper(attrs["method"])
	if method == "" {
		method = http.MethodGet
	}
	b.Pages = append(b.Pages, method+" "+action.String())
	if method == http.MethodGet {
		action.RawQuery = form.Encode()
		req, err := http.NewRequestWithContext(ctx, method, action.String(), nil)
		return req, err == nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, false, fmt.Errorf("browser: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, true, nil
}

func attrMap(s string) map[string]string {
	out := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		v := a[2]
		if v == "" {
			v = a[3]
		}
		out[strings.ToLower(a[1])] = html.UnescapeString(v)
	}
	return out
}

var tagRe = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]+>`)

// pageText is a page's visible text, squeezed, for messages.
func pageText(body string) string {
	t := strings.Join(strings.Fields(html.UnescapeString(tagRe.ReplaceAllString(body, " "))), " ")
	if len(t) > 400 {
		t = t[:400] + "..."
	}
	return t
}

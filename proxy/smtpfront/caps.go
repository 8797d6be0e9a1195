package smtpfront

import (
	"slices"
	"strconv"
	"strings"
	"sync"
)

// relayedExtensions are EHLO keywords that need nothing from the proxy
// before login and work through the byte relay afterwards, so they are
// advertised once every upstream seen so far offers them. Others (AUTH,
// STARTTLS, ...) concern the proxy's own half of the session.
var relayedExtensions = []string{"CHUNKING", "DSN", "SMTPUTF8"}

// capabilities is what an upstream's EHLO reply said.
type capabilities struct {
	// size is the SIZE limit, 0 when absent or unlimited.
	size int64
	// keywords are the extension keywords, upper case.
	keywords map[string]bool
}

// parseEHLO reads the extension lines of an EHLO reply (the first line is
// the server's greeting and is skipped).
func parseEHLO(lines []string) capabilities {
	caps := capabilities{keywords: map[string]bool{}}
	for _, l := range lines[min(1, len(lines)):] {
		fields := strings.Fields(l)
		if len(fields) == 0 {
			continue
		}
		kw := strings.ToUpper(fields[0])
		caps.keywords[kw] = true
		if kw == "SIZE" && len(fields) > 1 {
			if n, err := strconv.ParseInt(fields[1], 10, 64); err == nil && n > 0 {
				caps.size = n
			}
		}
	}
	return caps
}

// capsCache remembers each provider's upstream capabilities. EHLO comes
// before the user (and so the provider) is known, so what the front end
// advertises must suit every provider: the smallest SIZE, and only the
// extensions all of them offer.
type capsCache struct {
	mu         sync.Mutex
	byProvider map[string]capabilities
}

func (cc *capsCache) learn(provider string, caps capabilities) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.byProvider == nil {
		cc.byProvider = map[string]capabilities{}
	}
	cc.byProvider[provider] = caps
}

// size is the smallest known SIZE limit, or 0 when none is known.
func (cc *capsCache) size() int64 {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	var n int64
	for _, c := range cc.byProvider {
		if c.size > 0 && (n == 0 || c.size < n) {
			n = c.size
		}
	}
	return n
}

// extensions are the relayed extensions every known upstream offers;
// none while no upstream is known.
func (cc *capsCache) extensions() []string {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.byProvider) == 0 {
		return nil
	}
	return slices.DeleteFunc(slices.Clone(relayedExtensions), func(kw string) bool {
		for _, c := range cc.byProvider {
			if !c.keywords[kw] {
				return true
			}
		}
		return false
	})
}

// ehloLines are the lines of the EHLO reply.
func (c *conn) ehloLines() []string {
	lines := []string{c.srv.hostname(), "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES",
		"SIZE " + strconv.FormatInt(c.srv.advertisedSize(), 10)}
	lines = append(lines, c.srv.caps.extensions()...)
	if c.srv.TLSConfig != nil && !c.sess.TLS {
		lines = append(lines, "STARTTLS")
	}
	if c.authAllowed() {
		lines = append(lines, "AUTH PLAIN LOGIN")
	}
	return lines
}

// authAllowed: AUTH is offered in clear text unless RequireTLS.
func (c *conn) authAllowed() bool {
	return c.sess.TLS || !c.srv.RequireTLS
}

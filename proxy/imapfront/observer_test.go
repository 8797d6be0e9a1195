package imapfront

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/login"
	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// seen is a proxy.LoginObserver that records what it heard.
type seen struct {
	mu       sync.Mutex
	logins   []error
	upstream []error
}

func (o *seen) LoginDone(_ *proxy.Session, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.logins = append(o.logins, err)
}

func (o *seen) UpstreamDone(_ *proxy.Session, _ time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.upstream = append(o.upstream, err)
}

// Each login attempt is reported once with its error; only attempts that
// reached the upstream report an upstream login.
func TestObserverHearsEachAttempt(t *testing.T) {
	closed := closedAddr(t)
	obs := &seen{}
	auth := grantFor(upstream.Endpoint{Addr: closed, TLS: upstream.Plain}, "u@example.test", "tok")
	answer := auth.answer
	auth.answer = func(n int, req login.Request) (*login.Grant, error) {
		if n == 0 {
			return nil, login.ErrBadCredentials
		}
		return answer(n, req)
	}
	c := dialFront(t, &Server{Auth: auth, Observer: obs}, nil)
	c.expect(greeting)
	c.send("a1 LOGIN u@example.test wrong\r\n")
	c.expect("a1" + badCreds)
	c.send("a2 LOGIN u@example.test right\r\n")
	c.expect("a2 NO [UNAVAILABLE] Mail server " + closed + " unreachable")
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.logins) != 2 || !errors.Is(obs.logins[0], login.ErrBadCredentials) || !errors.Is(obs.logins[1], upstream.ErrUnreachable) {
		t.Errorf("logins heard: %v", obs.logins)
	}
	if len(obs.upstream) != 1 || !errors.Is(obs.upstream[0], upstream.ErrUnreachable) {
		t.Errorf("upstream logins heard: %v", obs.upstream)
	}
}

package imapfront

import (
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/oauthbridge/oauthbridge/proxy/upstream"
)

// Neither the password nor the token reaches a log line, at any level,
// on success or on any failure path.
func TestNoSecretsInLogs(t *testing.T) {
	const password = "hunter2-SECRET"
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)

	good := startMem(t, upstream.Implicit, testToken)
	refusing := startMem(t, upstream.Implicit)
	for _, auth := range []*fakeAuth{
		grantFor(good.Endpoint(), "alice@example.com", testToken),
		grantFor(refusing.Endpoint(), "alice@example.com", testToken),
		failWith(fmt.Errorf("wrapped: %w", errNotSecret)),
		{},
	} {
		c := dialFront(t, &Server{Auth: auth, Log: log}, nil)
		c.expect(greeting)
		c.send("1 ID (\"name\" \"x\")\r\n2 AUTHENTICATE PLAIN " + b64("\x00alice\x00"+password) + "\r\n")
		c.expect(`* ID ("name" "oauthbridge")`, "1 OK ID completed")
		c.readUntilTag("2")
		c.conn.Close()
		c.wait()
	}
	if logs.Len() == 0 {
		t.Fatal("nothing logged: the test checks nothing")
	}
	for _, e := range logs.All() {
		line := e.Message + fmt.Sprint(e.ContextMap())
		if strings.Contains(line, "SECRET") {
			t.Errorf("secret in log line: %s", line)
		}
	}
}

var errNotSecret = fmt.Errorf("store unavailable")

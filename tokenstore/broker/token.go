package broker

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap/zapcore"
)

// Token is a currently valid access token and where it may be used.
type Token struct {
	// AccessToken is the bearer token. Secret.
	AccessToken string
	// Expiry is when the identity provider said it expires.
	Expiry time.Time
	// UpstreamUser is the user name to present upstream with it.
	UpstreamUser string
	// Provider names the configured provider that issued it.
	Provider string
}

// String describes the token without its secret.
func (t Token) String() string {
	return fmt.Sprintf("token{provider=%s user=%s expiry=%s access_token=[redacted]}",
		t.Provider, t.UpstreamUser, t.Expiry.UTC().Format(time.RFC3339))
}

// GoString redacts as String does, for %#v.
func (t Token) GoString() string { return t.String() }

// Format redacts for every verb (%d or %x would otherwise print the
// fields one by one).
func (t Token) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// MarshalLogObject lets zap log a Token without its secret.
func (t Token) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("provider", t.Provider)
	enc.AddString("upstream_user", t.UpstreamUser)
	enc.AddTime("expiry", t.Expiry)
	return nil
}

// MarshalJSON redacts, so a Token put into JSON by mistake leaks nothing.
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{
		"provider": t.Provider, "upstream_user": t.UpstreamUser, "access_token": "[redacted]",
	})
}

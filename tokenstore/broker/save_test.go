package broker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/oauth2"

	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/broker"
)

func TestSaveReplacesRecord(t *testing.T) {
	e := newEnv(t)
	e.save(alice, -time.Minute)
	e.idp.Revoke(alice)
	if _, err := e.access(e.b, context.Background(), alice, e.key(alice, password)); !errors.Is(err, broker.ErrNeedsConsent) {
		t.Fatalf("err = %v, want ErrNeedsConsent", err)
	}
	oldSalt := mustRecord(t, e, alice).KDF.Salt

	// The user consents again, choosing a new local password.
	const newPassword = "alice-new-pw-91c2"
	e.secrets = append(e.secrets, newPassword)
	tok := e.idp.Issue(alice)
	if err := e.b.Save(context.Background(), alice, "lab", "alice.upstream@example.com", []byte(newPassword), tok); err != nil {
		t.Fatal(err)
	}
	r := mustRecord(t, e, alice)
	if r.Status != tokenstore.StatusOK || r.StatusReason != "" || r.UpstreamUser != "alice.upstream@example.com" || r.Provider != "lab" {
		t.Fatalf("record after Save: %+v", r)
	}
	if bytes.Equal(r.KDF.Salt, oldSalt) || r.KDF.MemoryKiB != fastKDF().MemoryKiB {
		t.Fatal("Save did not use fresh parameters from Broker.KDF")
	}
	g, err := tokenstore.Open(tokenstore.DeriveKey([]byte(newPassword), r.KDF), alice, r.Sealed)
	if err != nil || g.RefreshToken != tok.RefreshToken || g.AccessToken != tok.AccessToken {
		t.Fatalf("sealed grant does not hold the saved token (%v)", err)
	}
	got, err := e.access(e.b, context.Background(), alice, tokenstore.DeriveKey([]byte(newPassword), r.KDF))
	if err != nil || got.AccessToken != tok.AccessToken || got.UpstreamUser != "alice.upstream@example.com" {
		t.Fatalf("AccessToken after Save: %v, %v", got, err)
	}
	if _, err := e.access(e.b, context.Background(), alice, e.key(alice, password)); !errors.Is(err, tokenstore.ErrWrongKey) {
		t.Fatalf("old password: err = %v, want ErrWrongKey", err)
	}
}

func TestSaveRefuses(t *testing.T) {
	e := newEnv(t)
	tok := e.idp.Issue(alice)
	cases := map[string]error{
		"no token":         e.b.Save(context.Background(), alice, "lab", alice, []byte(password), nil),
		"no refresh token": e.b.Save(context.Background(), alice, "lab", alice, []byte(password), &oauth2.Token{AccessToken: tok.AccessToken}),
		"empty password":   e.b.Save(context.Background(), alice, "lab", alice, nil, tok),
		"unknown provider": e.b.Save(context.Background(), alice, "nope", alice, []byte(password), tok),
	}
	for name, err := range cases {
		if err == nil {
			t.Errorf("%s: Save succeeded", name)
		}
		e.errs = append(e.errs, err)
	}
	if _, err := e.store.Get(context.Background(), alice); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Fatalf("a refused Save stored something: %v", err)
	}
}

func TestTokenRedacts(t *testing.T) {
	tok := broker.Token{AccessToken: "at-secret-0123456789", Expiry: time.Now(), UpstreamUser: "u", Provider: "p"}
	var texts []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		texts = append(texts, fmt.Sprintf(verb, tok), fmt.Sprintf(verb, &tok), fmt.Sprintf(verb, []broker.Token{tok}))
	}
	js, _ := json.Marshal(struct{ T broker.Token }{tok})
	texts = append(texts, string(js), tok.String())
	core, logs := observer.New(zapcore.DebugLevel)
	zap.New(core).Info("x", zap.Any("token", tok), zap.Object("obj", tok), zap.Stringer("str", tok))
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	for _, entry := range logs.All() {
		buf, _ := enc.EncodeEntry(entry.Entry, entry.Context)
		texts = append(texts, buf.String())
	}
	if leaked := leaks(texts, []string{tok.AccessToken}); len(leaked) > 0 {
		t.Fatalf("Token leaked: %q", leaked)
	}
	if !bytes.Contains(js, []byte(`"provider":"p"`)) {
		t.Fatalf("JSON lost the non-secret fields: %s", js)
	}
}

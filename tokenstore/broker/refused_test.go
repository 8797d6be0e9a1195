package broker

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/oauthbridge/oauthbridge/internal/testidp"
	"github.com/oauthbridge/oauthbridge/tokenstore"
	"github.com/oauthbridge/oauthbridge/tokenstore/filestore"
)

// A login that read the record just before a refresh stored a new token
// still holds the token the upstream refused. After the refresh it must
// still be recognised as refused, or that login would cache it again and
// every login after it would be refused (seen under a 1,000-login storm).
func TestRefusedTokenStaysRefusedForStaleReaders(t *testing.T) {
	idp := testidp.New(t)
	st, err := filestore.Open(filepath.Join(t.TempDir(), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := New(st, map[string]*Provider{"lab": {Name: "lab", OAuth2: idp.Config(""), HTTPClient: idp.Client()}}, nil)
	b.KDF = func() tokenstore.KDFParams {
		p := tokenstore.DefaultKDF()
		p.MemoryKiB, p.Time, p.Threads = 64, 1, 1
		return p
	}
	ctx := context.Background()
	const acct = "alice@example.test"
	if err := b.Save(ctx, acct, "lab", "", []byte("pw"), idp.Issue(acct)); err != nil {
		t.Fatal(err)
	}
	stale, err := st.Get(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	key := tokenstore.DeriveKey([]byte("pw"), stale.KDF)
	old, err := tokenstore.Open(key, acct, stale.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	b.Forget(acct, old.AccessToken) // the upstream refused it
	fresh, err := b.AccessToken(ctx, acct, key)
	if err != nil || fresh.AccessToken == old.AccessToken {
		t.Fatalf("refresh after refusal: %v (same token: %v)", err, fresh.AccessToken == old.AccessToken)
	}
	if _, ok := b.usable(stale, old); ok {
		t.Fatal("after the refresh, a stale reader's copy of the refused token counts as usable again")
	}
	if _, ok := b.usable(stale, &tokenstore.Grant{AccessToken: fresh.AccessToken, Expiry: fresh.Expiry}); !ok {
		t.Fatal("the fresh token is not usable")
	}
}

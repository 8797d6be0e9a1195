package admin

import (
	"strings"
	"testing"
)

// FuzzErrorCode: whatever a revocation endpoint answers, errorCode
// returns nothing or " code" in RFC 6749's error alphabet, never other
// text from the body.
func FuzzErrorCode(f *testing.F) {
	f.Add(`{"error":"unsupported_token_type"}`)
	f.Add(`{"error":"invalid_client","error_description":"secret rt-123"}`)
	f.Add(`<html>oops</html>`)
	f.Add(`{"error":"a b\r\nc"}`)
	f.Fuzz(func(t *testing.T, body string) {
		got := errorCode(strings.NewReader(body))
		if got == "" {
			return
		}
		if !strings.HasPrefix(got, " ") || !errorCodeSyntax.MatchString(got[1:]) {
			t.Fatalf("errorCode(%q) = %q", body, got)
		}
	})
}

package hint

import (
	"strings"
	"testing"
)

// The texts are the providers' replies as clients receive them.
func TestForRecognisesProviderReplies(t *testing.T) {
	for _, tc := range []struct{ text, id string }{
		{"NO Request is throttled. Suggested Backoff Time: 1000 milliseconds", "ms_throttled"},
		{"-ERR [SYS/TEMP] Request is throttled. Suggested Backoff Time: 2000 milliseconds", "ms_throttled"},
		{"BAD User is authenticated but not connected.", "ms_not_connected"},
		{"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.", "ms_smtp_auth_disabled"},
		{"535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully.", "ms_smtp_auth_refused"},
		{"NO [ALERT] Your account is not enabled for IMAP use.", "google_imap_disabled"},
		{"NO AUTHENTICATE failed.", "ms_authenticate_failed"},
	} {
		h, ok := For(tc.text)
		if !ok || h.ID != tc.id {
			t.Errorf("For(%q) = %q, %v; want %q", tc.text, h.ID, ok, tc.id)
		}
		if h.Advice == "" {
			t.Errorf("%s: no advice", tc.id)
		}
	}
}

func TestForIgnoresOtherText(t *testing.T) {
	for _, text := range []string{"", "NO [AUTHENTICATIONFAILED] Authentication failed.", "454 4.7.0 Temporary authentication failure"} {
		if h, ok := For(text); ok {
			t.Errorf("For(%q) = %q, want no hint", text, h.ID)
		}
	}
}

// FuzzFor: any upstream text is fine input; a hint never echoes it.
func FuzzFor(f *testing.F) {
	f.Add("NO Request is throttled. Suggested Backoff Time: 1000 milliseconds")
	f.Add("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.")
	f.Add("\xff\xfe REQUEST IS THROTTLED \x00")
	f.Fuzz(func(t *testing.T, text string) {
		h, ok := For(text)
		if !ok {
			return
		}
		if h.ID == "" || h.Advice == "" {
			t.Fatalf("empty hint for %q", text)
		}
		if len(text) > 8 && strings.Contains(h.Advice, text) {
			t.Fatalf("advice echoes the input %q", text)
		}
		if isASCII(text) {
			if again, _ := For(strings.ToUpper(text)); again != h {
				t.Fatalf("upper case of %q gives %q, want %q", text, again.ID, h.ID)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

package hint

import "strings"

// Hint is advice for the administrator about a recognised provider
// message.
type Hint struct {
	// ID names the message in logs and tests: stable, lower case, no
	// spaces.
	ID string
	// Advice says what it means and what to do.
	Advice string
}

// entry is one recognised message: all of its needles (lower case) must
// occur in the text.
type entry struct {
	needles []string
	hint    Hint
}

// table holds the messages, most specific first. The wording comes from
// the providers' documentation and observed replies.
var table = []entry{
	{[]string{"request is throttled"}, Hint{"ms_throttled",
		"Microsoft is throttling this mailbox or tenant: clients should wait the suggested backoff time; " +
			"too many parallel connections or logins per mailbox (Exchange Online allows about 20 IMAP connections) cause it"}},
	{[]string{"user is authenticated but not connected"}, Hint{"ms_not_connected",
		"Microsoft accepted the token but did not open the mailbox: the token's user differs from the mailbox " +
			"(check the account's upstream_user), IMAP/POP is disabled for the mailbox in the Exchange admin center, " +
			"or the mailbox has no Exchange Online licence"}},
	{[]string{"smtpclientauthentication is disabled"}, Hint{"ms_smtp_auth_disabled",
		"Authenticated SMTP (SMTP AUTH) is turned off for this tenant or mailbox: enable it for the mailbox " +
			"(Microsoft 365 admin center, user, Mail, Manage email apps, Authenticated SMTP) or for the tenant " +
			"(Set-TransportConfig -SmtpClientAuthenticationDisabled $false)"}},
	{[]string{"5.7.139"}, Hint{"ms_smtp_auth_refused",
		"Microsoft refused SMTP AUTH for the mailbox: check that Authenticated SMTP is enabled for it, that " +
			"security defaults or conditional access do not block it, and that the token carries the SMTP.Send permission"}},
	{[]string{"not enabled for imap use"}, Hint{"google_imap_disabled",
		"Google has IMAP turned off for this account: enable IMAP in Gmail's settings (Forwarding and POP/IMAP), " +
			"or in the Workspace admin console for the organisation"}},
	{[]string{"authenticate failed"}, Hint{"ms_authenticate_failed",
		"the server refused the OAuth token: the app registration may lack the mail permissions " +
			"(IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send) or admin consent, or the token was issued for another user"}},
}

// For returns the hint for a message from a mail server or identity
// provider, if it is one the table knows.
func For(text string) (Hint, bool) {
	if text == "" {
		return Hint{}, false
	}
	lower := strings.ToLower(text)
	for _, e := range table {
		if containsAll(lower, e.needles) {
			return e.hint, true
		}
	}
	return Hint{}, false
}

func containsAll(s string, needles []string) bool {
	for _, n := range needles {
		if !strings.Contains(s, n) {
			return false
		}
	}
	return true
}

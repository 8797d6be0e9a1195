//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// curlUser is carol: the curl scenario's own account.
var curlUser = Users["carol"]

// runCurl runs curl with a netrc file for the credentials (so the password
// is not on the command line) and returns stdout.
func runCurl(ctx context.Context, t *testing.T, w *World, u User, args ...string) (string, error) {
	t.Helper()
	host, _ := splitAddr(t, w.Bridge.IMAP)
	netrc := filepath.Join(t.TempDir(), "netrc")
	line := fmt.Sprintf("machine %s login %s password %q\n", host, u.Email, u.LocalPassword)
	if err := os.WriteFile(netrc, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--silent", "--show-error", "--max-time", "60", "--cacert", w.CA.CAFile, "--netrc-file", netrc}
	cmd := exec.CommandContext(ctx, "curl", append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("curl %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// TestCurlIMAPThroughProxy is scenario 2 for IMAP: curl logs in with
// AUTHENTICATE LOGIN and AUTHENTICATE PLAIN, lists folders and fetches a
// message. (Python imaplib covers the LOGIN command.)
func TestCurlIMAPThroughProxy(t *testing.T) {
	w := needWorld(t)
	w.consent(t, curlUser)
	ctx := testCtx(t, 3*time.Minute)
	seeded := w.Mail[curlUser.Email].Folder("INBOX")
	for _, opt := range []string{"AUTH=LOGIN", "AUTH=PLAIN"} {
		t.Run(opt, func(t *testing.T) {
			list, err := runCurl(ctx, t, w, curlUser, "--login-options", opt, "imaps://"+w.Bridge.IMAPS+"/")
			if err != nil {
				t.Fatalf("%v\n%s", err, w.Bridge.LogTail(2000))
			}
			if !strings.Contains(list, "Archive") || !strings.Contains(list, "INBOX") {
				t.Fatalf("LIST through the proxy: %q", list)
			}
			msg, err := runCurl(ctx, t, w, curlUser, "--login-options", opt, "--ssl-reqd",
				"imap://"+w.Bridge.IMAP+"/INBOX/;MAILINDEX=1")
			if err != nil {
				t.Fatal(err)
			}
			if !hashIn(msg, seeded) {
				t.Fatalf("fetched message 1 (%d bytes) is none of the seeded INBOX messages", len(msg))
			}
		})
	}
}

// TestCurlPOP3ThroughProxy is scenario 2 for POP3, over implicit TLS and STLS.
func TestCurlPOP3ThroughProxy(t *testing.T) {
	w := needWorld(t)
	w.needUp(t, w.Bridge.POP3S, "POP3")
	w.consent(t, curlUser)
	ctx := testCtx(t, 3*time.Minute)
	seeded := w.Mail[curlUser.Email].Folder("INBOX")
	for _, url := range []string{"pop3s://" + w.Bridge.POP3S, "pop3://" + w.Bridge.POP3} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			list, err := runCurl(ctx, t, w, curlUser, "--ssl-reqd", url+"/")
			if err != nil {
				t.Fatalf("%v\n%s", err, w.Bridge.LogTail(2000))
			}
			if n := len(strings.Split(strings.TrimSpace(list), "\n")); n < len(seeded) {
				t.Fatalf("LIST shows %d messages, seeded %d: %q", n, len(seeded), list)
			}
			msg, err := runCurl(ctx, t, w, curlUser, "--ssl-reqd", url+"/1")
			if err != nil {
				t.Fatal(err)
			}
			if !hashIn(msg, seeded) {
				t.Fatalf("RETR 1 (%d bytes) is none of the seeded INBOX messages", len(msg))
			}
		})
	}
}

// TestCurlSMTPThroughProxy is scenario 2 for submission: the message must
// reach the sink behind Dovecot's submission service unchanged.
func TestCurlSMTPThroughProxy(t *testing.T) {
	w := needWorld(t)
	w.needUp(t, w.Bridge.SMTP, "SMTP submission")
	w.consent(t, curlUser)
	ctx := testCtx(t, 3*time.Minute)
	for _, url := range []string{"smtps://" + w.Bridge.SMTPS, "smtp://" + w.Bridge.SMTP} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			marker := fmt.Sprintf("curl-smtp-%d", time.Now().UnixNano())
			body := fmt.Sprintf("From: <%s>\r\nTo: <friend@example.org>\r\nSubject: %s\r\n\r\nsent with curl\r\n", curlUser.Email, marker)
			file := filepath.Join(t.TempDir(), "msg.eml")
			if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := runCurl(ctx, t, w, curlUser, "--ssl-reqd", "--mail-from", curlUser.Email,
				"--mail-rcpt", "friend@example.org", "--upload-file", file, url)
			if err != nil {
				t.Fatalf("%v\n%s\n%s", err, w.Bridge.LogTail(2000), w.Dovecot.LogTail(1000))
			}
			got, ok := w.Sink.Find(marker)
			if !ok {
				t.Fatalf("message %s never reached the relay sink", marker)
			}
			if NormalizedHash(StripReceived(got.Data)) != NormalizedHash([]byte(body)) {
				t.Errorf("relayed message differs:\n%q\nwant\n%q", got.Data, body)
			}
		})
	}
}

// hashIn reports whether msg equals (line endings aside) a seeded message.
func hashIn(msg string, seeded []Seeded) bool {
	h := NormalizedHash([]byte(msg))
	for _, s := range seeded {
		if NormalizedHash(s.Data) == h {
			return true
		}
	}
	return false
}

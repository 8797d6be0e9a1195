//go:build integration

package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// syncUser is alice, who has the large seeded mailbox.
var syncUser = Users["alice"]

// TestFetchmailThroughProxy is scenario 3 for fetchmail: POP3 (STLS) and
// IMAP (implicit TLS) through the proxy bring down exactly what Dovecot
// holds in INBOX.
func TestFetchmailThroughProxy(t *testing.T) {
	w := needWorld(t)
	w.consent(t, syncUser)
	for _, tc := range []struct{ name, proto, addr, tls string }{
		{"pop3-stls", "POP3", w.Bridge.POP3, "sslproto tls1.2+"},
		{"imap-implicit", "IMAP", w.Bridge.IMAPS, "ssl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.proto == "POP3" {
				w.needUp(t, tc.addr, "POP3")
			}
			got := runFetchmail(t, w, syncUser, tc.proto, tc.addr, tc.tls)
			want, err := FolderFiles(w.Dovecot.Maildir(syncUser.Email), "INBOX")
			if err != nil {
				t.Fatal(err)
			}
			compareSets(t, "fetchmail "+tc.name, got, want)
		})
	}
}

func runFetchmail(t *testing.T, w *World, u User, proto, addr, tlsOpt string) [][]byte {
	t.Helper()
	home := t.TempDir()
	out := filepath.Join(home, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	mda := filepath.Join(home, "deliver.sh")
	script := "#!/bin/sh\n# fetchmail MDA: one file per message\nexec cat > \"$1/$(date +%s%N)-$$\"\n"
	if err := os.WriteFile(mda, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	_, port := splitAddr(t, addr)
	rc := fmt.Sprintf("set no syslog\npoll localhost via 127.0.0.1 service %s protocol %s timeout 60\n"+
		"  user %q there with password %q\n  %s sslcertck sslcertfile %q\n"+
		"  keep fetchall no rewrite\n  mda \"%s %s\"\n", port, proto, u.Email, u.LocalPassword, tlsOpt, w.CA.CAFile, mda, out)
	rcPath := filepath.Join(home, "fetchmailrc")
	if err := os.WriteFile(rcPath, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, 5*time.Minute)
	cmd := exec.CommandContext(ctx, "fetchmail", "-f", rcPath, "--nodetach", "--invisible", "-v")
	cmd.Env = append(os.Environ(), "FETCHMAILHOME="+home, "HOME="+home)
	logb, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fetchmail: %v\n%s\n--- oauthbridge ---\n%s", err, tailString(string(logb), 3000), w.Bridge.LogTail(2000))
	}
	return readDir(t, out)
}

// TestMbsyncThroughProxy is scenario 3 for isync: mbsync pulls every
// folder through the proxy into a local Maildir, equal to Dovecot's.
func TestMbsyncThroughProxy(t *testing.T) {
	w := needWorld(t)
	w.consent(t, syncUser)
	home := t.TempDir()
	local := filepath.Join(home, "mail")
	host, port := splitAddr(t, w.Bridge.IMAPS)
	conf := fmt.Sprintf(`IMAPAccount proxy
Host %s
Port %s
User %s
Pass %q
SSLType IMAPS
CertificateFile %s
AuthMechs LOGIN
Timeout 60

IMAPStore remote
Account proxy

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel all
Far :remote:
Near :local:
Patterns *
Create Near
Sync Pull
SyncState *
`, host, port, syncUser.Email, syncUser.LocalPassword, w.CA.CAFile, local, local)
	confPath := filepath.Join(home, "mbsyncrc")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(local, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(testCtx(t, 5*time.Minute), "mbsync", "-c", confPath, "-V", "all")
	cmd.Env = append(os.Environ(), "HOME="+home)
	if logb, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mbsync: %v\n%s\n--- oauthbridge ---\n%s", err, tailString(string(logb), 3000), w.Bridge.LogTail(2000))
	}
	for folder := range FullSpec.Folders {
		want, err := FolderFiles(w.Dovecot.Maildir(syncUser.Email), folder)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(local, folder)
		got := append(readDir(t, filepath.Join(dir, "cur")), readDir(t, filepath.Join(dir, "new"))...)
		for i := range got {
			got[i] = dropTUID(got[i])
		}
		compareSets(t, "mbsync "+folder, got, want)
	}
}

// dropTUID removes the X-TUID header field mbsync adds to every message it
// stores (its own tracking id), so the rest can be compared byte for byte.
func dropTUID(b []byte) []byte {
	i := bytes.Index(b, []byte("\nX-TUID: "))
	if i < 0 {
		return b
	}
	j := bytes.IndexByte(b[i+1:], '\n')
	if j < 0 {
		return b
	}
	return append(append([]byte(nil), b[:i+1]...), b[i+1+j+1:]...)
}

func readDir(t *testing.T, dir string) [][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	var out [][]byte
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// compareSets checks that got and want hold the same messages (count and
// normalized hashes); on a mismatch it shows the first differing message.
func compareSets(t *testing.T, what string, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d messages, server holds %d", what, len(got), len(want))
	}
	hg, hw := Hashes(got), Hashes(want)
	if reflect.DeepEqual(hg, hw) {
		t.Logf("%s: %d messages, all hashes equal", what, len(got))
		return
	}
	have := map[string]bool{}
	for _, h := range hw {
		have[h] = true
	}
	for _, g := range got {
		if !have[NormalizedHash(g)] {
			t.Errorf("%s: a synced message matches nothing on the server: %s", what, explainMismatch(g, want))
			return
		}
	}
	t.Errorf("%s: message sets differ", what)
}

// explainMismatch finds the server's message with the same Message-ID and
// shows the first line where the two differ.
func explainMismatch(g []byte, want [][]byte) string {
	norm := func(b []byte) []string {
		return strings.Split(string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))), "\n")
	}
	gl := norm(g)
	id := ""
	for _, l := range gl {
		if strings.HasPrefix(strings.ToLower(l), "message-id:") {
			id = l
			break
		}
	}
	for _, w := range want {
		if id == "" || !bytes.Contains(w, []byte(id)) {
			continue
		}
		wl := norm(w)
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				return fmt.Sprintf("%s: line %d is %q, server has %q", id, i+1, gl[i], wl[i])
			}
		}
		return fmt.Sprintf("%s: %d lines, server has %d", id, len(gl), len(wl))
	}
	return fmt.Sprintf("no server message has %q", id)
}

func tailString(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

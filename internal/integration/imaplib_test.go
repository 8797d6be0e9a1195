//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestImaplibThroughProxy is scenario 1: Python's imaplib logs in through
// the proxy with LOGIN (implicit TLS) and AUTHENTICATE PLAIN (STARTTLS),
// lists folders, fetches a message with a 1 MiB attachment byte for byte
// as Dovecot stored it, appends one, and gets an IDLE push for new mail.
func TestImaplibThroughProxy(t *testing.T) {
	w := needWorld(t)
	u := Users["bob"]
	w.consent(t, u)
	for _, tc := range []struct{ name, tls, addr, auth string }{
		{"login-imaps", "imaps", w.Bridge.IMAPS, "login"},
		{"plain-starttls", "starttls", w.Bridge.IMAP, "plain"},
	} {
		t.Run(tc.name, func(t *testing.T) { runImaplib(t, w, u, tc.tls, tc.addr, tc.auth) })
	}
}

func runImaplib(t *testing.T, w *World, u User, mode, addr, auth string) {
	ctx := testCtx(t, 2*time.Minute)
	host, port := splitAddr(t, addr)
	want := w.Mail[u.Email].Folder("INBOX")[7] // the one with the attachment
	cmd := exec.CommandContext(ctx, "python3", filepath.Join("testdata", "imaplib_client.py"),
		host, port, mode, w.CA.CAFile, u.Email, "-", auth, "<seed-INBOX-7@example.test>")
	cmd.Env = append(os.Environ(), "IMAP_PASSWORD="+u.LocalPassword)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[string]any{}
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("imaplib_client.py said %q", sc.Text())
		}
		name, _ := ev["event"].(string)
		seen[name] = ev
		if name == "idling" {
			deliverNote(t, w, u)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("imaplib client: %v (last error event %v)\n%s\n--- oauthbridge ---\n%s",
			err, seen["error"], stderr.String(), w.Bridge.LogTail(3000))
	}
	checkImaplibEvents(t, w, u, seen, want.Data)
}

func deliverNote(t *testing.T, w *World, u User) {
	msg := fmt.Sprintf("From: <pusher@example.org>\r\nTo: <%s>\r\nSubject: push %d\r\n\r\nnew mail\r\n", u.Email, time.Now().UnixNano())
	if _, err := Deliver(w.Dovecot.Maildir(u.Email), "INBOX", []byte(msg), w.Dovecot.UID, w.Dovecot.GID); err != nil {
		t.Error(err)
	}
}

func checkImaplibEvents(t *testing.T, w *World, u User, seen map[string]map[string]any, want []byte) {
	t.Helper()
	folders := fmt.Sprint(seen["folders"]["folders"])
	for _, f := range []string{"INBOX", "Archive", "Lists/golang-nuts"} {
		if !strings.Contains(folders, f) {
			t.Errorf("LIST lacks %s: %s", f, folders)
		}
	}
	got, _ := base64.StdEncoding.DecodeString(fmt.Sprint(seen["fetched"]["body"]))
	if !bytes.Equal(got, want) {
		t.Errorf("FETCH BODY[] through the proxy differs from the stored message (%d vs %d bytes)", len(got), len(want))
	}
	if fmt.Sprint(seen["appended"]["typ"]) != "OK" {
		t.Errorf("APPEND: %v", seen["appended"])
	} else {
		marker := fmt.Sprint(seen["appended"]["marker"])
		files, err := FolderFiles(w.Dovecot.Maildir(u.Email), "Archive")
		if err != nil || !containsMessage(files, marker) {
			t.Errorf("appended message %s is not in Dovecot's Archive (%v)", marker, err)
		}
	}
	if line, _ := seen["push"]["line"].(string); !strings.HasSuffix(line, "EXISTS") {
		t.Errorf("IDLE got no new-mail push: %v", seen["push"])
	}
	if _, ok := seen["done"]; !ok {
		t.Errorf("client did not finish: %v", seen)
	}
}

func containsMessage(files [][]byte, marker string) bool {
	for _, f := range files {
		if bytes.Contains(f, []byte(marker)) {
			return true
		}
	}
	return false
}

func splitAddr(t *testing.T, addr string) (string, string) {
	i := strings.LastIndexByte(addr, ':')
	if _, err := strconv.Atoi(addr[i+1:]); err != nil {
		t.Fatalf("bad address %q", addr)
	}
	return addr[:i], addr[i+1:]
}

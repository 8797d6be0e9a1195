//go:build integration

package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// SeedSpec says what mailbox to generate: how many messages per folder
// (folder names with "/" as the hierarchy separator, INBOX included), and
// how many of the INBOX messages carry a large attachment.
type SeedSpec struct {
	Folders map[string]int
	// Large attachments are 1, 2, 3 ... MiB of random bytes, base64.
	Large int
}

// FullSpec is the realistic mailbox the sync scenarios use: several hundred
// messages in several folders and a few multi-megabyte attachments.
var FullSpec = SeedSpec{
	Folders: map[string]int{"INBOX": 180, "Archive": 120, "Sent": 40, "Lists/golang-nuts": 60, "Lists/dovecot": 25},
	Large:   3,
}

// SmallSpec is enough for scenarios that only need to log in and look.
var SmallSpec = SeedSpec{Folders: map[string]int{"INBOX": 12, "Archive": 3}}

// Seeded is one message as written into the Maildir.
type Seeded struct {
	Folder string
	Path   string
	Data   []byte
}

// Mailbox is what SeedMaildir wrote.
type Mailbox struct {
	Messages []Seeded
}

// Folder returns the messages of one folder in the order Dovecot assigns
// UIDs (file name order, which is delivery order here).
func (m *Mailbox) Folder(name string) []Seeded {
	var out []Seeded
	for _, s := range m.Messages {
		if s.Folder == name {
			out = append(out, s)
		}
	}
	return out
}

// Hashes returns the sorted normalized hashes of the given messages.
func Hashes(msgs [][]byte) []string {
	out := make([]string, 0, len(msgs))
	for _, b := range msgs {
		out = append(out, NormalizedHash(b))
	}
	sort.Strings(out)
	return out
}

// NormalizedHash hashes a message with line endings made LF and trailing
// blank lines removed: clients store mail with either convention, and the
// bytes that matter are the same.
func NormalizedHash(b []byte) string {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	b = bytes.TrimRight(b, "\n")
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// SeedMaildir writes a deterministic mailbox for email into maildir (the
// user's Maildir++ root). The same spec and address always give the same
// bytes, so a failing comparison is reproducible.
func SeedMaildir(maildir, email string, spec SeedSpec) (*Mailbox, error) {
	rng := rand.New(rand.NewPCG(uint64(len(email)), 0x0a07b41d9e))
	mb := &Mailbox{}
	folders := make([]string, 0, len(spec.Folders))
	for f := range spec.Folders {
		folders = append(folders, f)
	}
	sort.Strings(folders)
	for _, folder := range folders {
		dir := maildirFolder(maildir, folder)
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
				return nil, fmt.Errorf("seed: %w", err)
			}
		}
		for i := 0; i < spec.Folders[folder]; i++ {
			large := 0
			if folder == "INBOX" && i%50 == 7 && (i/50) < spec.Large {
				large = (i/50 + 1) << 20
			}
			data := seedMessage(rng, email, folder, i, large)
			flags := "S"
			if i%4 == 0 {
				flags = ""
			}
			name := fmt.Sprintf("%d.M%dP1.seed.example.test,S=%d:2,%s", 1700000000+i, i, len(data), flags)
			p := filepath.Join(dir, "cur", name)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return nil, fmt.Errorf("seed: %w", err)
			}
			mb.Messages = append(mb.Messages, Seeded{Folder: folder, Path: p, Data: data})
		}
	}
	return mb, writeSubscriptions(maildir, folders)
}

// maildirFolder maps "Lists/golang-nuts" to Maildir++'s ".Lists.golang-nuts".
func maildirFolder(maildir, folder string) string {
	if folder == "INBOX" {
		return maildir
	}
	return filepath.Join(maildir, "."+strings.ReplaceAll(folder, "/", "."))
}

func writeSubscriptions(maildir string, folders []string) error {
	var b strings.Builder
	for _, f := range folders {
		if f != "INBOX" {
			b.WriteString(f + "\n")
		}
	}
	if err := os.WriteFile(filepath.Join(maildir, "subscriptions"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

var seedWords = strings.Fields(`the proxy token refresh mailbox server client login consent device ` +
	`flow access expiry dovecot idle fetch append folder archive message header body attachment ` +
	`quarterly report meeting notes draft review budget travel lunch release candidate patch`)

// seedMessage builds one RFC 5322 message with CRLF line ends, as a server
// stores it, so that FETCH BODY[] returns exactly these bytes.
func seedMessage(rng *rand.Rand, email, folder string, i, large int) []byte {
	var b bytes.Buffer
	date := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * 97 * time.Minute)
	from := fmt.Sprintf("sender%d@example.org", rng.IntN(40))
	subj := fmt.Sprintf("%s #%d: %s %s", folder, i, pick(rng), pick(rng))
	fmt.Fprintf(&b, "Return-Path: <%s>\r\nFrom: Sender %d <%s>\r\nTo: <%s>\r\n", from, i, from, email)
	fmt.Fprintf(&b, "Subject: %s\r\nDate: %s\r\n", subj, date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <seed-%s-%d@example.test>\r\nMIME-Version: 1.0\r\n", strings.ReplaceAll(folder, "/", "."), i)
	boundary := fmt.Sprintf("=_seed_%d_%x", i, rng.Uint32())
	if large > 0 {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\n", boundary, boundary)
	}
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	for l := 0; l < 3+rng.IntN(30); l++ {
		for w := 0; w < 4+rng.IntN(10); w++ {
			b.WriteString(pick(rng) + " ")
		}
		b.WriteString("\r\n")
	}
	if large > 0 {
		writeAttachment(&b, rng, boundary, i, large)
	}
	return b.Bytes()
}

func writeAttachment(b *bytes.Buffer, rng *rand.Rand, boundary string, i, size int) {
	fmt.Fprintf(b, "\r\n--%s\r\nContent-Type: application/octet-stream\r\n", boundary)
	fmt.Fprintf(b, "Content-Disposition: attachment; filename=\"blob-%d.bin\"\r\n", i)
	b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
	raw := make([]byte, size)
	for j := range raw {
		raw[j] = byte(rng.Uint32())
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--" + boundary + "--\r\n")
}

func pick(rng *rand.Rand) string { return seedWords[rng.IntN(len(seedWords))] }

// Deliver drops a message into a Maildir folder's new/ the way a local
// delivery agent does (write in tmp/, rename into new/), owned by uid/gid,
// so Dovecot sees new mail and pushes it to IDLE clients.
func Deliver(maildir, folder string, data []byte, uid, gid int) (string, error) {
	dir := maildirFolder(maildir, folder)
	name := fmt.Sprintf("%d.M%dP%d.deliver.example.test", time.Now().Unix(), time.Now().Nanosecond(), os.Getpid())
	tmp := filepath.Join(dir, "tmp", name)
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return "", fmt.Errorf("deliver: %w", err)
	}
	if os.Getuid() == 0 {
		if err := os.Chown(tmp, uid, gid); err != nil {
			return "", fmt.Errorf("deliver: %w", err)
		}
	}
	dst := filepath.Join(dir, "new", name)
	if err := os.Rename(tmp, dst); err != nil {
		return "", fmt.Errorf("deliver: %w", err)
	}
	return dst, nil
}

// FolderFiles returns the contents of every message file in a Maildir
// folder (cur and new): what the server really holds right now.
func FolderFiles(maildir, folder string) ([][]byte, error) {
	dir := maildirFolder(maildir, folder)
	var out [][]byte
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", folder, err)
		}
		for _, en := range entries {
			b, err := os.ReadFile(filepath.Join(dir, sub, en.Name()))
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", folder, err)
			}
			out = append(out, b)
		}
	}
	return out, nil
}

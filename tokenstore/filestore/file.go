package filestore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// fileFormat is the version of the file layout; a file with another
// version is refused rather than misread.
const fileFormat = 1

// fileBody is the file's JSON layout.
type fileBody struct {
	Format  int                  `json:"format"`
	Records []*tokenstore.Record `json:"records"`
}

// snapshot is one read of the file. Its map and records are never changed
// after creation: writers build a new snapshot.
type snapshot struct {
	info os.FileInfo // nil when the file did not exist
	held *os.File    // the file read, kept open (holdOpen) so its inode stays unique
	recs map[string]*tokenstore.Record
}

func (sn *snapshot) release() {
	if sn != nil && sn.held != nil {
		sn.held.Close()
	}
}

// sameFile reports whether fi is still the file the snapshot was read from.
func (sn *snapshot) sameFile(fi os.FileInfo) bool {
	return sn.info != nil && os.SameFile(sn.info, fi) &&
		sn.info.Size() == fi.Size() && sn.info.ModTime().Equal(fi.ModTime())
}

// readSnapshot reads and decodes the file. A missing file is an empty
// store; anything unreadable is an error naming the file.
func readSnapshot(path string) (*snapshot, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &snapshot{recs: map[string]*tokenstore.Record{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	sn, err := readOpen(f)
	if err != nil || !holdOpen {
		f.Close()
		sn.held = nil
	}
	if err != nil {
		return nil, fmt.Errorf("filestore: %s: %w", path, err)
	}
	return sn, nil
}

func readOpen(f *os.File) (*snapshot, error) {
	sn := &snapshot{held: f}
	fi, err := f.Stat()
	if err != nil {
		return sn, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return sn, err
	}
	sn.info = fi
	sn.recs, err = decode(data)
	return sn, err
}

// decode parses the file's content strictly: one JSON object of the known
// format, every record with a distinct, non-empty account.
func decode(data []byte) (map[string]*tokenstore.Record, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrCorrupt)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var body fileBody
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrCorrupt)
	}
	if body.Format != fileFormat {
		return nil, fmt.Errorf("%w: unsupported format %d (want %d)", ErrCorrupt, body.Format, fileFormat)
	}
	recs := make(map[string]*tokenstore.Record, len(body.Records))
	for i, r := range body.Records {
		switch {
		case r == nil || r.Account == "":
			return nil, fmt.Errorf("%w: record %d has no account", ErrCorrupt, i)
		case recs[r.Account] != nil:
			return nil, fmt.Errorf("%w: account %q appears twice", ErrCorrupt, r.Account)
		}
		recs[r.Account] = r
	}
	return recs, nil
}

// encode renders records sorted by account, indented for a human reader.
func encode(recs map[string]*tokenstore.Record) ([]byte, error) {
	body := fileBody{Format: fileFormat, Records: make([]*tokenstore.Record, 0, len(recs))}
	for _, r := range recs {
		body.Records = append(body.Records, r)
	}
	slices.SortFunc(body.Records, func(a, b *tokenstore.Record) int { return strings.Compare(a.Account, b.Account) })
	data, err := json.MarshalIndent(body, "", "  ")
	return append(data, '\n'), err
}

// testHookBeforeRename, when set by a test, runs between writing the
// temporary file and renaming it; an error simulates a crash there.
var testHookBeforeRename func() error

// writeAtomic replaces path with data: temporary file in the same
// directory, fsync, rename, fsync of the directory. It returns the new
// file's snapshot identity, with the file kept open when holdOpen.
func writeAtomic(path string, data []byte) (held *os.File, info os.FileInfo, err error) {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return nil, nil, err
	}
	if _, err = f.Write(data); err != nil {
		return nil, nil, err
	}
	if err = f.Sync(); err != nil {
		return nil, nil, err
	}
	if info, err = f.Stat(); err != nil {
		return nil, nil, err
	}
	if testHookBeforeRename != nil {
		if err = testHookBeforeRename(); err != nil {
			return nil, nil, err
		}
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return nil, nil, err
	}
	return finishWrite(f, info, dir)
}

// finishWrite makes the rename durable and decides whether to keep the
// new file open. The rename already happened: an error here means the new
// state is visible but may not survive a power cut.
func finishWrite(f *os.File, info os.FileInfo, dir string) (*os.File, os.FileInfo, error) {
	if !holdOpen {
		f.Close()
		f = nil
	}
	if err := syncDir(dir); err != nil {
		if f != nil {
			f.Close()
		}
		return nil, nil, fmt.Errorf("sync directory: %w", err)
	}
	return f, info, nil
}

func tempPrefix(base string) string { return "." + base + ".tmp-" }

// removeStrayTemps deletes temporary files a crashed writer left behind.
// The caller holds the file lock, so no live writer owns one.
func removeStrayTemps(path string) error {
	dir, base := filepath.Split(path)
	entries, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tempPrefix(base)) {
			continue
		}
		err := os.Remove(filepath.Join(dir, e.Name()))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

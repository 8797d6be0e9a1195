package filestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// DefaultName is the store's file name in the state directory.
const DefaultName = "tokens.json"

// ErrCorrupt is wrapped by errors about a file that cannot be parsed. The
// store refuses to work on it rather than start empty and lose every
// grant: restore it from a backup or move it away.
var ErrCorrupt = errors.New("token store file is damaged")

// ErrClosed is returned by a Store used after Close.
var ErrClosed = errors.New("filestore: store is closed")

// openTimeout bounds the wait for another writer at Open.
const openTimeout = 30 * time.Second

// writeTimeout bounds Update's write once fn has run. The write does not
// follow the caller's context: a finished fn (a refresh that rotated a
// token) must not be thrown away because the caller gave up.
const writeTimeout = 10 * time.Second

// Store is a tokenstore.Store kept in one file. Open it with Open.
type Store struct {
	path     string
	fileLock *os.File      // <path>.lock, flocked by writers of the file
	writeSem chan struct{} // in-process holder of fileLock
	accounts lockSet

	mu     sync.Mutex // guards snap and closed
	snap   *snapshot
	closed bool
}

var _ tokenstore.Store = (*Store)(nil)

// Open opens (creating when missing) the store file at path, creating its
// directory 0700. It fails with ErrCorrupt when the file is damaged.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("filestore: empty path")
	}
	path = filepath.Clean(path)
	for _, dir := range []string{filepath.Dir(path), path + ".locks"} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("filestore: %w", err)
		}
	}
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	s := &Store{path: path, fileLock: lock, writeSem: make(chan struct{}, 1)}
	if err := s.recover(); err != nil {
		lock.Close()
		return nil, err
	}
	return s, nil
}

// recover removes what a crashed writer left and checks the file parses.
func (s *Store) recover() error {
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	release, err := s.lockFile(ctx)
	if err != nil {
		return err
	}
	defer release()
	if err := removeStrayTemps(s.path); err != nil {
		return fmt.Errorf("filestore: remove temporary files: %w", err)
	}
	_, err = s.current()
	return err
}

// Path returns the store file's path.
func (s *Store) Path() string { return s.path }

// current returns the snapshot of the file as it is now, re-reading it
// when another writer replaced it.
func (s *Store) current() (*snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	fi, err := os.Stat(s.path)
	switch {
	case err == nil && s.snap != nil && s.snap.sameFile(fi):
		return s.snap, nil
	case err != nil && !os.IsNotExist(err):
		return nil, fmt.Errorf("filestore: %w", err)
	case err != nil && s.snap != nil && s.snap.info == nil:
		return s.snap, nil // still no file
	}
	sn, err := readSnapshot(s.path)
	if err != nil {
		return nil, err
	}
	s.snap.release()
	s.snap = sn
	return sn, nil
}

// install makes sn the current snapshot after this process wrote it.
func (s *Store) install(sn *snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		sn.release()
		return
	}
	s.snap.release()
	s.snap = sn
}

// Close releases the lock file and the held file. In-flight writes finish
// first; later calls fail with ErrClosed.
func (s *Store) Close() error {
	s.writeSem <- struct{}{}
	defer func() { <-s.writeSem }()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.snap.release()
	s.snap = nil
	return s.fileLock.Close()
}

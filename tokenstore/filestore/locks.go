package filestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// maxLockPoll bounds the wait between attempts to take a busy flock.
// flock cannot be interrupted by a context, so waiting polls instead.
const maxLockPoll = 20 * time.Millisecond

// lockSet is a set of in-process mutexes by key that a waiter can give up
// on when its context ends. Entries disappear when nobody uses them.
type lockSet struct {
	mu sync.Mutex
	m  map[string]*lockEntry
}

type lockEntry struct {
	sem  chan struct{}
	refs int
}

func (l *lockSet) acquire(ctx context.Context, key string) (release func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*lockEntry{}
	}
	e := l.m[key]
	if e == nil {
		e = &lockEntry{sem: make(chan struct{}, 1)}
		l.m[key] = e
	}
	e.refs++
	l.mu.Unlock()
	select {
	case e.sem <- struct{}{}:
		return func() { <-e.sem; l.unref(key, e) }, nil
	case <-ctx.Done():
		l.unref(key, e)
		return nil, ctx.Err()
	}
}

func (l *lockSet) unref(key string, e *lockEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(l.m, key)
	}
}

// flockWait takes an exclusive flock on f, polling until ctx ends.
func flockWait(ctx context.Context, f *os.File) error {
	delay := time.Millisecond
	for {
		ok, err := tryLock(f)
		if ok || err != nil {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, maxLockPoll)
	}
}

// lockAccount serialises Put, Update and Delete of one account across
// goroutines (lockSet) and processes (flock on the account's lock file).
func (s *Store) lockAccount(ctx context.Context, account string) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: lock %s: %w", account, err)
	}
	releaseMem, err := s.accounts.acquire(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("filestore: lock %s: %w", account, err)
	}
	f, err := os.OpenFile(s.accountLockPath(account), os.O_RDWR|os.O_CREATE, 0o600)
	if err == nil {
		err = flockWait(ctx, f)
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		releaseMem()
		return nil, fmt.Errorf("filestore: lock %s: %w", account, err)
	}
	return func() {
		_ = unlock(f)
		f.Close()
		releaseMem()
	}, nil
}

// accountLockPath hashes the account so any name makes a safe file name.
func (s *Store) accountLockPath(account string) string {
	sum := sha256.Sum256([]byte(account))
	return filepath.Join(s.path+".locks", hex.EncodeToString(sum[:16])+".lock")
}

// lockFile serialises writers of the whole file: the in-process semaphore,
// then the flock on <file>.lock.
func (s *Store) lockFile(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: lock %s: %w", s.path, err)
	}
	select {
	case s.writeSem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("filestore: lock %s: %w", s.path, ctx.Err())
	}
	if err := flockWait(ctx, s.fileLock); err != nil {
		<-s.writeSem
		return nil, fmt.Errorf("filestore: lock %s: %w", s.path, err)
	}
	return func() {
		_ = unlock(s.fileLock)
		<-s.writeSem
	}, nil
}

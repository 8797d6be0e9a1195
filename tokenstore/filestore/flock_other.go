//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package filestore

import "os"

// holdOpen is false where an open file may block its replacement
// (Windows); with in-process locking only, this process is the only writer
// and the cached snapshot cannot be outdated by an inode reuse it missed.
const holdOpen = false

// tryLock succeeds at once: locking is in-process only on these systems.
func tryLock(*os.File) (bool, error) { return true, nil }

func unlock(*os.File) error { return nil }

// syncDir is a no-op: directories cannot be fsynced here.
func syncDir(string) error { return nil }

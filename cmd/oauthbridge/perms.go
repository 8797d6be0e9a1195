package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/proxy/listener"
)

// checkPermissions runs before anything is started. It refuses to start
// when a secret, or state an attacker could use, is open to every user of
// the machine: a configuration file that holds a secret itself, the token
// store, the TLS private key; or a state directory that anyone may write
// to. Secret files named by "file:" are refused when group or others may
// read them as the configuration is loaded. A state directory that others
// may merely read or enter is narrowed to 0700 (with a warning), since
// oauthbridge creates it that way itself. Unix permissions only: Windows
// keeps ACLs that mode bits do not describe.
func checkPermissions(cfg *config.Config, path string, log *zap.Logger) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	var errs []error
	if path != "" && len(cfg.InlineSecrets()) > 0 {
		errs = append(errs, refuseReadable(path, "the configuration file holds "+strings.Join(cfg.InlineSecrets(), ", ")+
			" (or move them to env:NAME or file:/path)", log))
	}
	errs = append(errs, checkStateDir(cfg.StateDir, log))
	if cfg.Store.Driver == "file" {
		errs = append(errs, refuseReadable(cfg.Store.Path, "the token store", log))
	}
	key := cfg.TLS.Key
	if key == "" {
		key = filepath.Join(cfg.StateDir, listener.KeyFileName)
	}
	errs = append(errs, refuseReadable(key, "the TLS private key", log))
	return errors.Join(errs...)
}

// refuseReadable fails when others may read path, and warns when its group
// may; a file that does not exist yet is fine (it is created 0600).
func refuseReadable(path, what string, log *zap.Logger) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", path, err)
	}
	mode := st.Mode().Perm()
	if mode&0o004 != 0 {
		return fmt.Errorf("%s is readable by every user (mode %04o) and %s: chmod 600 %s", path, mode, what, path)
	}
	if mode&0o040 != 0 {
		log.Warn("file readable by its group; chmod 600 unless that is intended", zap.String("file", path), zap.String("holds", what))
	}
	return nil
}

// checkStateDir refuses a state directory that others may write to and
// narrows one that others may read or enter.
func checkStateDir(dir string, log *zap.Logger) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("state_dir: %w", err)
	}
	mode := st.Mode().Perm()
	if mode&0o022 != 0 {
		return fmt.Errorf("state_dir %s may be written by other users (mode %04o): chmod 700 %s", dir, mode, dir)
	}
	if mode&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(dir, mode&0o700); err != nil {
		log.Warn("state_dir may be read by other users and could not be narrowed; chmod 700 it",
			zap.String("dir", dir), zap.String("mode", fmt.Sprintf("%04o", mode)), zap.Error(err))
		return nil
	}
	log.Warn("state_dir was readable by other users; narrowed to 0700", zap.String("dir", dir),
		zap.String("was", fmt.Sprintf("%04o", mode)))
	return nil
}

package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// StateDir checks that dir exists, is a directory, and that neither it
// nor the secret files in it (the token store and the TLS key) can be
// read by other users.
func StateDir(dir string, secretFiles ...string) (string, error) {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", withHint(fmt.Errorf("%s does not exist", dir), "it is created by the first `oauthbridge serve` or `authorize`; or check state_dir")
	}
	if err != nil {
		return "", withHint(err, "check that the user running oauthbridge may read %s", dir)
	}
	if !st.IsDir() {
		return "", withHint(fmt.Errorf("%s is not a directory", dir), "point state_dir at a directory")
	}
	if runtime.GOOS == "windows" {
		return "mode not checked on Windows", nil
	}
	if p := st.Mode().Perm(); p&0o077 != 0 {
		return "", withHint(fmt.Errorf("%s has mode %04o: other users may look inside", dir, p), "chmod 700 %s", dir)
	}
	for _, f := range secretFiles {
		path := filepath.Join(dir, f)
		fst, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", withHint(err, "check that the user running oauthbridge may read %s", path)
		}
		if p := fst.Mode().Perm(); p&0o077 != 0 {
			return "", withHint(fmt.Errorf("%s has mode %04o", path, p), "chmod 600 %s", path)
		}
	}
	return fmt.Sprintf("%s: mode %04o, secret files not readable by others", dir, st.Mode().Perm()), nil
}

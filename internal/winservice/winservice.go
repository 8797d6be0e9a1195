package winservice

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// DefaultName is the service's name (its key in the SCM and the event
// log's source name).
const DefaultName = "oauthbridge"

// StopTimeout bounds Stop's wait for the service to reach Stopped, and is
// the wait hint given to the SCM while the daemon stops gracefully.
const StopTimeout = 30 * time.Second

// ErrNotWindows is returned on systems without a Service Control Manager.
var ErrNotWindows = errors.New("winservice: Windows services exist only on Windows")

// ErrExists is returned by Install when the service is already registered.
var ErrExists = errors.New("winservice: service already installed")

// ErrNotInstalled is returned when the named service is not registered.
var ErrNotInstalled = errors.New("winservice: service not installed")

// Config describes the service Install registers.
type Config struct {
	// Name is the service's key; empty means DefaultName.
	Name string
	// DisplayName and Description are what services.msc shows.
	DisplayName string
	Description string
	// Exe is the absolute path of oauthbridge.exe.
	Exe string
	// Args are the arguments the SCM starts it with, for example
	// serve --config C:\ProgramData\oauthbridge\oauthbridge.yaml.
	Args []string
	// StateDir, when set, is created (or has its DACL replaced) so that
	// only SYSTEM, Administrators and the service may open it.
	StateDir string
}

func (c *Config) normalize() error {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.DisplayName == "" {
		c.DisplayName = "oauthbridge"
	}
	if c.Description == "" {
		c.Description = "Lets mail clients log in with a password to IMAP, POP3 and SMTP servers that require OAuth 2.0."
	}
	if !filepath.IsAbs(c.Exe) {
		return fmt.Errorf("winservice: executable path %q is not absolute", c.Exe)
	}
	return nil
}

//go:build !windows

package winservice

import "context"

// Install registers the service; only on Windows.
func Install(Config) error { return ErrNotWindows }

// Uninstall stops and removes the service; only on Windows.
func Uninstall(string) error { return ErrNotWindows }

// Start asks the SCM to start the service; only on Windows.
func Start(string) error { return ErrNotWindows }

// Stop asks the SCM to stop the service and waits; only on Windows.
func Stop(context.Context, string) error { return ErrNotWindows }

// IsService reports whether the SCM started this process: never here.
func IsService() (bool, error) { return false, nil }

// Run runs serve under the SCM; only on Windows.
func Run(string, func(ctx context.Context) error) error { return ErrNotWindows }

// OpenEventLog opens the service's event log source; only on Windows.
func OpenEventLog(string) (EventWriter, error) { return nil, ErrNotWindows }

// PrepareStateDir gives the state directory a service-only DACL; only on
// Windows.
func PrepareStateDir(string, string) error { return ErrNotWindows }

package winservice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// recovery restarts a failed service after 5, 10 and 30 seconds; the
// failure count resets after a day without failures.
var recovery = []mgr.RecoveryAction{
	{Type: mgr.ServiceRestart, Delay: 5 * time.Second},
	{Type: mgr.ServiceRestart, Delay: 10 * time.Second},
	{Type: mgr.ServiceRestart, Delay: 30 * time.Second},
}

// Install registers the service (automatic, delayed start, as its virtual
// account), its recovery actions and its event log source, and prepares
// c.StateDir. It needs an elevated (administrator) process.
func Install(c Config) error {
	if err := c.normalize(); err != nil {
		return err
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("winservice: connect to the service manager (run as administrator): %w", err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(c.Name); err == nil {
		s.Close()
		return fmt.Errorf("%w: %s", ErrExists, c.Name)
	}
	s, err := m.CreateService(c.Name, c.Exe, mgr.Config{
		DisplayName:      c.DisplayName,
		Description:      c.Description,
		StartType:        mgr.StartAutomatic,
		DelayedAutoStart: true,
		ServiceStartName: `NT SERVICE\` + c.Name,
	}, c.Args...)
	if err != nil {
		return fmt.Errorf("winservice: create service %s: %w", c.Name, err)
	}
	defer s.Close()
	if err := configure(s, c); err != nil {
		_ = s.Delete()
		return err
	}
	return nil
}

// configure sets what CreateService cannot: recovery, the event source,
// the state directory.
func configure(s *mgr.Service, c Config) error {
	if err := s.SetRecoveryActions(recovery, uint32((24 * time.Hour).Seconds())); err != nil {
		return fmt.Errorf("winservice: recovery actions: %w", err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		return fmt.Errorf("winservice: recovery on failure exit: %w", err)
	}
	err := eventlog.InstallAsEventCreate(c.Name, eventlog.Error|eventlog.Warning|eventlog.Info)
	// eventlog reports an existing source as plain text, not an errno.
	if err != nil && !errors.Is(err, windows.ERROR_ALREADY_EXISTS) && !containsFold(err.Error(), "already exists") {
		return fmt.Errorf("winservice: event log source: %w", err)
	}
	if c.StateDir != "" {
		if err := PrepareStateDir(c.StateDir, c.Name); err != nil {
			return err
		}
	}
	return nil
}

// Uninstall stops the service if it runs, removes it and its event log
// source. The state directory is kept: it holds the users' grants.
func Uninstall(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), StopTimeout)
	defer cancel()
	if err := Stop(ctx, name); err != nil && !errors.Is(err, ErrNotInstalled) && !errors.Is(err, errNotRunning) {
		return err
	}
	m, s, err := open(name)
	if err != nil {
		return err
	}
	defer m.Disconnect()
	defer s.Close()
	if err := s.Delete(); err != nil {
		return fmt.Errorf("winservice: delete service %s: %w", name, err)
	}
	if err := eventlog.Remove(name); err != nil {
		return fmt.Errorf("winservice: remove event log source: %w", err)
	}
	return nil
}

// Start asks the SCM to start the service; it returns once the request is
// accepted (the service reports its own progress).
func Start(name string) error {
	m, s, err := open(name)
	if err != nil {
		return err
	}
	defer m.Disconnect()
	defer s.Close()
	if err := s.Start(); err != nil {
		return fmt.Errorf("winservice: start %s: %w", name, err)
	}
	return nil
}

var errNotRunning = errors.New("winservice: service is not running")

// Stop asks the SCM to stop the service and waits until it has stopped or
// ctx ends.
func Stop(ctx context.Context, name string) error {
	m, s, err := open(name)
	if err != nil {
		return err
	}
	defer m.Disconnect()
	defer s.Close()
	st, err := s.Control(svc.Stop)
	if errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
		return errNotRunning
	} else if err != nil {
		return fmt.Errorf("winservice: stop %s: %w", name, err)
	}
	for st.State != svc.Stopped {
		select {
		case <-ctx.Done():
			return fmt.Errorf("winservice: %s did not stop: %w", name, ctx.Err())
		case <-time.After(300 * time.Millisecond):
		}
		if st, err = s.Query(); err != nil {
			return fmt.Errorf("winservice: query %s: %w", name, err)
		}
	}
	return nil
}

// IsService reports whether the SCM started this process.
func IsService() (bool, error) {
	ok, err := svc.IsWindowsService()
	if err != nil {
		return false, fmt.Errorf("winservice: %w", err)
	}
	return ok, nil
}

// open connects to the SCM and opens the named service.
func open(name string) (*mgr.Mgr, *mgr.Service, error) {
	m, err := mgr.Connect()
	if err != nil {
		return nil, nil, fmt.Errorf("winservice: connect to the service manager (run as administrator): %w", err)
	}
	s, err := m.OpenService(name)
	if err != nil {
		m.Disconnect()
		if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
			return nil, nil, fmt.Errorf("%w: %s", ErrNotInstalled, name)
		}
		return nil, nil, fmt.Errorf("winservice: open %s: %w", name, err)
	}
	return m, s, nil
}

// OpenEventLog opens the service's event log source (registered by
// Install) for EventCore.
func OpenEventLog(name string) (EventWriter, error) {
	l, err := eventlog.Open(name)
	if err != nil {
		return nil, fmt.Errorf("winservice: open event log %s: %w", name, err)
	}
	return l, nil
}

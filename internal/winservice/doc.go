// Package winservice runs oauthbridge as a Windows service: it registers
// the binary with the Service Control Manager (install, uninstall, start,
// stop), runs the daemon under the SCM's control (Run), prepares a state
// directory under %ProgramData% that only the service and administrators
// can open, and carries log lines to the Windows event log.
//
// cmd/oauthbridge wires it in: `oauthbridge service install|uninstall|
// start|stop`, and at start-up, when IsService reports that the SCM
// started the process, Run instead of the console's signal handling.
//
// Invariants:
//   - The service runs under its virtual account (NT SERVICE\<name>), not
//     LocalSystem: it has no rights beyond its own state directory and the
//     network.
//   - The state directory's DACL is protected (nothing inherited from
//     ProgramData, where every user may read): SYSTEM, Administrators and
//     the service's own SID only.
//   - A stop or shutdown request cancels the daemon's context and waits for
//     it to return (its graceful stop), reporting StopPending meanwhile; a
//     daemon that fails exits with a service-specific error, so the
//     recovery actions (restart after 5 s, 10 s, 30 s) apply.
//   - On other systems every function returns ErrNotWindows, so callers
//     need no build tags. EventCore works everywhere (it is tested here
//     with a fake event log).
package winservice

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// hangups returns the channel that asks serve to reload (the test's, or
// SIGHUP) and a function that stops listening for the signal. On Windows
// SIGHUP never arrives; a restart reloads there.
func (e *env) hangups() (<-chan os.Signal, func()) {
	if e.hup != nil {
		return e.hup, func() {}
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	return ch, func() { signal.Stop(ch) }
}

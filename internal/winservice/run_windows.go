package winservice

import (
	"context"
	"fmt"

	"golang.org/x/sys/windows/svc"
)

// Run runs serve under the Service Control Manager until it returns or the
// SCM asks the service to stop (then serve's context is cancelled and Run
// waits for serve to finish its graceful stop). Call it from main when
// IsService reports true, instead of the console's signal handling.
func Run(name string, serve func(ctx context.Context) error) error {
	h := &handler{serve: serve}
	if err := svc.Run(name, h); err != nil {
		return fmt.Errorf("winservice: run %s: %w", name, err)
	}
	return h.err
}

type handler struct {
	serve func(ctx context.Context) error
	err   error // serve's result, for Run's caller
}

// Execute is called by svc.Run on the service's goroutine.
func (h *handler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.serve(ctx) }()
	running := svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	status <- running
	for {
		select {
		case err := <-done:
			return h.exit(err)
		case r := <-req:
			switch r.Cmd {
			case svc.Interrogate:
				status <- r.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending, WaitHint: uint32(StopTimeout.Milliseconds())}
				cancel()
				return h.exit(<-done)
			}
		}
	}
}

// exit maps serve's result to the service's exit code: a failure is a
// service-specific error 1, which makes the SCM apply the recovery actions.
func (h *handler) exit(err error) (bool, uint32) {
	h.err = err
	if err != nil {
		return true, 1
	}
	return false, 0
}

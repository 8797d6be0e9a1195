package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/oauthbridge/oauthbridge/internal/winservice"
)

// runAsService runs the command line the service was registered with
// (serve --config FILE) under the Service Control Manager: its stop
// request cancels serve, log lines at warn and above also go to the event
// log, and if serve fails, the end of what it printed goes there too (a
// service's stderr leads nowhere).
func runAsService(args []string) int {
	tail := &tailWriter{max: 4 << 10}
	e := &env{stdin: strings.NewReader(""), stdout: tail, stderr: tail}
	ev, err := winservice.OpenEventLog(winservice.DefaultName)
	if err == nil {
		defer ev.Close()
		e.logCore = winservice.EventCore(ev, zapcore.WarnLevel)
	}
	code := 0
	err = winservice.Run(winservice.DefaultName, func(ctx context.Context) error {
		if code = run(ctx, args, e); code != 0 {
			return fmt.Errorf("oauthbridge %s exited with status %d", strings.Join(args, " "), code)
		}
		return nil
	})
	if err != nil && ev != nil {
		_ = ev.Error(winservice.EventError, err.Error()+"\n"+tail.String())
	}
	if err != nil && code == 0 {
		code = 1
	}
	return code
}

// teeLogger adds the extra log destination of env (the event log, as a
// service) to log; without one it returns log.
func (e *env) teeLogger(log *zap.Logger) *zap.Logger {
	if e.logCore == nil {
		return log
	}
	return log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return zapcore.NewTee(c, e.logCore) }))
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// isService reports whether the Service Control Manager started this
// process; an error asking is taken as "no" (the console path then runs,
// and says what went wrong if it cannot).
func isService() bool {
	ok, err := winservice.IsService()
	if err != nil {
		fmt.Fprintf(os.Stderr, "oauthbridge: %v\n", err)
	}
	return ok
}

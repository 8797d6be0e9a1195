package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Status is the outcome of one step.
type Status string

// The outcomes.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Warn Status = "WARN"
	Skip Status = "SKIP"
)

// Result is one step's outcome.
type Result struct {
	Name   string
	Status Status
	// Detail says what the step saw.
	Detail string
	// Hint says what to do about a failure or warning.
	Hint string
	Took time.Duration
}

// Runner runs steps, writes one line per result to Out and, while a step
// takes long, a progress line to Progress every Tick.
type Runner struct {
	Out      io.Writer
	Progress io.Writer
	// Tick is how often a long step reports progress (default 2s).
	Tick time.Duration

	results []Result
}

// hinted is an error that carries advice.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

// withHint attaches advice to err (nil stays nil).
func withHint(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &hinted{err: err, hint: fmt.Sprintf(format, args...)}
}

// warning is a detail that passes but deserves attention.
type warning struct{ detail, hint string }

func (w *warning) Error() string { return w.detail }

// Step runs fn under timeout and records its result: Pass with the
// detail fn returned, Warn for a *warning, Fail otherwise. It reports
// whether the step did not fail.
func (r *Runner) Step(ctx context.Context, name string, timeout time.Duration, fn func(ctx context.Context) (string, error)) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := r.progress(name)
	start := time.Now()
	detail, err := fn(ctx)
	stop()
	res := Result{Name: name, Status: Pass, Detail: detail, Took: time.Since(start)}
	var w *warning
	var h *hinted
	switch {
	case errors.As(err, &w):
		res.Status, res.Detail, res.Hint = Warn, w.detail, w.hint
	case err != nil:
		res.Status, res.Detail = Fail, err.Error()
		if errors.As(err, &h) {
			res.Hint = h.hint
		}
	}
	r.record(res)
	return res.Status != Fail
}

// Skipped records a step that could not run and why.
func (r *Runner) Skipped(name, why string) {
	r.record(Result{Name: name, Status: Skip, Detail: why})
}

func (r *Runner) record(res Result) {
	r.results = append(r.results, res)
	if r.Out == nil {
		return
	}
	line := fmt.Sprintf("[%s] %s", res.Status, res.Name)
	if res.Detail != "" {
		line += ": " + oneLine(res.Detail)
	}
	if res.Took >= time.Second {
		line += fmt.Sprintf(" (%s)", res.Took.Round(100*time.Millisecond))
	}
	fmt.Fprintln(r.Out, line)
	if res.Hint != "" {
		fmt.Fprintln(r.Out, "       hint: "+oneLine(res.Hint))
	}
}

// progress prints "still checking" lines until the returned stop is
// called.
func (r *Runner) progress(name string) func() {
	if r.Progress == nil {
		return func() {}
	}
	tick := r.Tick
	if tick <= 0 {
		tick = 2 * time.Second
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		start := time.Now()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(r.Progress, "       ... still checking %s (%s)\n", name, time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// Results returns every result so far.
func (r *Runner) Results() []Result { return append([]Result(nil), r.results...) }

// Count returns how many results have status s.
func (r *Runner) Count(s Status) int {
	n := 0
	for _, res := range r.results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// oneLine makes foreign text one printable line of bounded length.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 400 {
		s = strings.ToValidUTF8(s[:400], "") + "..."
	}
	return strings.TrimSpace(s)
}

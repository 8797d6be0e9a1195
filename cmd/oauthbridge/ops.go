package main

import (
	"time"

	"go.uber.org/zap"

	"github.com/oauthbridge/oauthbridge/proxy"
	"github.com/oauthbridge/oauthbridge/proxy/activity"
	"github.com/oauthbridge/oauthbridge/proxy/hint"
	"github.com/oauthbridge/oauthbridge/proxy/metrics"
)

// ops is what the daemon keeps for operators across configuration
// reloads: the metrics and the in-memory view of sessions.
type ops struct {
	metrics *metrics.Metrics
	tracker *activity.Tracker
}

func newOps() *ops {
	return &ops{metrics: metrics.New(versionString()), tracker: activity.New()}
}

// wrap puts the counting and tracking around a listener's handler.
func (o *ops) wrap(h proxy.Handler) proxy.Handler {
	return o.metrics.Wrap(o.tracker.Wrap(h))
}

// loginObserver is what every front end calls when a login ends: it
// feeds the metrics and the tracker, and logs a hint when the upstream
// said something an administrator can act on.
type loginObserver struct{ *ops }

var _ proxy.LoginObserver = loginObserver{}

// LoginDone implements proxy.LoginObserver.
func (o loginObserver) LoginDone(s *proxy.Session, err error) {
	o.metrics.LoginDone(s, err)
	o.tracker.LoginDone(s, err)
	if err == nil {
		return
	}
	if h, ok := hint.For(err.Error()); ok && s.Log != nil {
		s.Log.Warn("provider message recognised", zap.String("hint_id", h.ID), zap.String("hint", h.Advice))
	}
}

// UpstreamDone implements proxy.LoginObserver.
func (o loginObserver) UpstreamDone(s *proxy.Session, d time.Duration, err error) {
	o.metrics.UpstreamDone(s, d, err)
}

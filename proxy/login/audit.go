package login

import (
	"io"
	"net"
	"strconv"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Reasons the audit stream gives for bad credentials. Clients get one
// answer for both; only the operator may tell them apart.
const (
	reasonUnknownUser   = "unknown user"
	reasonWrongPassword = "wrong password"
)

// Attempt is one finished login attempt, as the audit stream and
// ServiceConfig.OnAttempt see it. It holds no secret.
type Attempt struct {
	// Time is when the attempt started.
	Time time.Time
	// Protocol is the front end's protocol.
	Protocol Protocol
	// Remote is the client's address (nil if unknown).
	Remote net.Addr
	// Username is the name as the client typed it.
	Username string
	// Result is Outcome of the attempt's error: "ok", "bad_credentials",
	// "throttled", ...
	Result string
	// Reason says why it failed: "unknown user", "wrong password", "source
	// locked", "account locked", or the error's (secret-free) text.
	Reason string
	// Duration is how long the attempt took.
	Duration time.Duration
}

// NewAuditLogger returns a logger writing the audit stream to w: one JSON
// object per line, fields always in this order:
//
//	{"time":"2026-01-02T03:04:05.678Z","msg":"login","protocol":"imap",
//	 "client":"192.0.2.7","port":51234,"result":"bad_credentials",
//	 "reason":"wrong password","user":"alice@example.com"}
//
// Everything before "user" is written by oauthbridge, never taken from the
// client, so a filter anchored at the start of the line (fail2ban's, in
// deploy/fail2ban) cannot be fooled by a user name that looks like an
// address. The user name is last and JSON-escaped.
func NewAuditLogger(w io.Writer) *zap.Logger {
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{
		TimeKey:        "time",
		MessageKey:     "msg",
		EncodeTime:     utcMillis,
		EncodeDuration: zapcore.StringDurationEncoder,
		LineEnding:     "\n",
	})
	return zap.New(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), zapcore.InfoLevel))
}

// utcMillis writes times in UTC with milliseconds, so that the audit
// stream reads the same whatever the machine's zone; the "Z" tells
// fail2ban so.
func utcMillis(t time.Time, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendString(t.UTC().Format("2006-01-02T15:04:05.000Z"))
}

// record writes the attempt's lines: the ordinary log line, the audit
// line, and the metrics callback.
func (s *Service) record(req Request, err error, reason string, start time.Time) {
	a := Attempt{Time: start, Protocol: req.Protocol, Remote: req.Remote, Username: req.Username,
		Result: Outcome(err), Reason: reason, Duration: time.Since(start)}
	if a.Reason == "" && safeReason(err) != nil {
		a.Reason = err.Error()
	}
	s.log.Info("login",
		zap.String("protocol", string(req.Protocol)),
		zap.String("user", req.Username),
		zap.Stringer("remote", addrString{req.Remote}),
		zap.String("result", a.Result),
		zap.Duration("duration", a.Duration),
		zap.NamedError("reason", safeReason(err)))
	host, port := splitRemote(req.Remote)
	s.audit.Info("login",
		zap.String("protocol", string(a.Protocol)),
		zap.String("client", host),
		zap.Int("port", port),
		zap.String("result", a.Result),
		zap.String("reason", a.Reason),
		zap.String("user", a.Username))
	if s.cfg.OnAttempt != nil {
		s.cfg.OnAttempt(a)
	}
}

// splitRemote returns the client's IP (without brackets or zone) and port.
func splitRemote(a net.Addr) (string, int) {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String(), t.Port
	}
	if a == nil {
		return "", 0
	}
	host, p, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), 0
	}
	port, _ := strconv.Atoi(p)
	return host, port
}

// throttled receives the throttle's events: a lock is worth a warning to
// the operator (once per lock, and locks grow exponentially, so the lines
// stay few); every event goes to the metrics callback.
func (s *Service) throttled(e ThrottleEvent) {
	if e.Action == ActionLocked {
		s.log.Warn("login throttled: "+e.Kind+" locked", zap.String(e.Kind, e.Key),
			zap.Int("failures", e.Failures), zap.Duration("for", e.For))
	}
	if s.cfg.OnThrottle != nil {
		s.cfg.OnThrottle(e)
	}
}

// ThrottleStats returns a snapshot of the throttle's tables, for gauges.
func (s *Service) ThrottleStats() ThrottleStats {
	return s.throttle.stats()
}

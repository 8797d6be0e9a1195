package winservice

import (
	"fmt"

	"go.uber.org/zap/zapcore"
)

// EventWriter is the Windows event log as the core uses it; the event log
// handle that OpenEventLog returns implements it.
type EventWriter interface {
	Info(eid uint32, msg string) error
	Warning(eid uint32, msg string) error
	Error(eid uint32, msg string) error
	Close() error
}

// Event IDs, one per event type, within the 1..1000 that the EventCreate
// message file registered by Install accepts.
const (
	EventInfo    uint32 = 1
	EventWarning uint32 = 2
	EventError   uint32 = 3
)

// EventCore returns a zap core that writes entries at or above enab to w:
// the message and its fields on one line, as the event's text. Tee it with
// the console core when running as a service, for example with level warn,
// so that an administrator sees in the Event Viewer why the service failed
// to start or stopped. The event log records the time and type itself.
func EventCore(w EventWriter, enab zapcore.LevelEnabler) zapcore.Core {
	enc := zapcore.NewConsoleEncoder(zapcore.EncoderConfig{
		MessageKey:       "msg",
		NameKey:          "logger",
		EncodeName:       zapcore.FullNameEncoder,
		EncodeDuration:   zapcore.StringDurationEncoder,
		ConsoleSeparator: " ",
	})
	return &eventCore{LevelEnabler: enab, enc: enc, w: w}
}

type eventCore struct {
	zapcore.LevelEnabler
	enc zapcore.Encoder
	w   EventWriter
}

func (c *eventCore) With(fields []zapcore.Field) zapcore.Core {
	enc := c.enc.Clone()
	for _, f := range fields {
		f.AddTo(enc)
	}
	return &eventCore{LevelEnabler: c.LevelEnabler, enc: enc, w: c.w}
}

func (c *eventCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *eventCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	buf, err := c.enc.EncodeEntry(e, fields)
	if err != nil {
		return fmt.Errorf("winservice: encode event: %w", err)
	}
	defer buf.Free()
	msg := buf.String()
	switch {
	case e.Level >= zapcore.ErrorLevel:
		err = c.w.Error(EventError, msg)
	case e.Level == zapcore.WarnLevel:
		err = c.w.Warning(EventWarning, msg)
	default:
		err = c.w.Info(EventInfo, msg)
	}
	if err != nil {
		return fmt.Errorf("winservice: write event: %w", err)
	}
	return nil
}

// Sync has nothing to flush: every event is written at once.
func (c *eventCore) Sync() error { return nil }

package turnsrv

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLogs routes pion's logs into slog. pion logs some per-packet events
// at Info (such as data from a peer without permission), so its Info is
// demoted to Debug to keep a flood of such packets out of the logs.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("scope", "pion-"+scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) emit(level slog.Level, msg string) {
	l.log.Log(context.Background(), level, msg)
}

func (l pionLogger) emitf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (l pionLogger) Trace(msg string)                  { l.emit(slog.LevelDebug-4, msg) }
func (l pionLogger) Tracef(format string, args ...any) { l.emitf(slog.LevelDebug-4, format, args...) }
func (l pionLogger) Debug(msg string)                  { l.emit(slog.LevelDebug-2, msg) }
func (l pionLogger) Debugf(format string, args ...any) { l.emitf(slog.LevelDebug-2, format, args...) }
func (l pionLogger) Info(msg string)                   { l.emit(slog.LevelDebug, msg) }
func (l pionLogger) Infof(format string, args ...any)  { l.emitf(slog.LevelDebug, format, args...) }
func (l pionLogger) Warn(msg string)                   { l.emit(slog.LevelWarn, msg) }
func (l pionLogger) Warnf(format string, args ...any)  { l.emitf(slog.LevelWarn, format, args...) }
func (l pionLogger) Error(msg string)                  { l.emit(slog.LevelError, msg) }
func (l pionLogger) Errorf(format string, args ...any) { l.emitf(slog.LevelError, format, args...) }

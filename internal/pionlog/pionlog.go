// Package pionlog bridges pion's logging.LoggerFactory to log/slog, so a
// program has one logging path: pion's messages arrive in the caller's
// slog handler with a "scope" attribute. Pion's trace, debug and info
// messages become slog debug (the session logs the events that matter at
// info itself); warnings and errors keep their level.
package pionlog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// Factory makes pion loggers that write to a slog.Logger.
type Factory struct {
	Logger *slog.Logger
}

// NewLogger returns a logger for one pion scope ("ice", "dtls", ...).
func (f Factory) NewLogger(scope string) logging.LeveledLogger {
	l := f.Logger
	if l == nil {
		l = slog.Default()
	}
	return &logger{l: l.With("scope", "pion/"+scope)}
}

const levelTrace = slog.LevelDebug - 4

type logger struct{ l *slog.Logger }

func (g *logger) log(level slog.Level, msg string) {
	if g.l.Enabled(context.Background(), level) {
		g.l.Log(context.Background(), level, msg)
	}
}

// logf formats only when the level is enabled: pion traces on hot paths.
func (g *logger) logf(level slog.Level, format string, args []any) {
	if g.l.Enabled(context.Background(), level) {
		g.l.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (g *logger) Trace(msg string)                  { g.log(levelTrace, msg) }
func (g *logger) Tracef(format string, args ...any) { g.logf(levelTrace, format, args) }
func (g *logger) Debug(msg string)                  { g.log(slog.LevelDebug, msg) }
func (g *logger) Debugf(format string, args ...any) { g.logf(slog.LevelDebug, format, args) }
func (g *logger) Info(msg string)                   { g.log(slog.LevelDebug, msg) }
func (g *logger) Infof(format string, args ...any)  { g.logf(slog.LevelDebug, format, args) }
func (g *logger) Warn(msg string)                   { g.log(slog.LevelWarn, msg) }
func (g *logger) Warnf(format string, args ...any)  { g.logf(slog.LevelWarn, format, args) }
func (g *logger) Error(msg string)                  { g.log(slog.LevelError, msg) }
func (g *logger) Errorf(format string, args ...any) { g.logf(slog.LevelError, format, args) }

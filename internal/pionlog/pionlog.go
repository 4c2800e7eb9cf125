// Package pionlog bridges pion's logging.LoggerFactory to log/slog, so a
// program has one logging path: pion's messages arrive in the caller's
// slog handler with a "scope" attribute. Pion's trace, debug and info
// messages become slog debug (the session logs the events that matter at
// info itself); warnings and errors keep their level, except the ones every
// normal call produces, which say nothing is wrong (see expected).
package pionlog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

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
func (g *logger) Warn(msg string)                   { g.logExpected(slog.LevelWarn, msg) }
func (g *logger) Warnf(format string, args ...any) {
	g.logExpected(slog.LevelWarn, fmt.Sprintf(format, args...))
}
func (g *logger) Error(msg string) { g.logExpected(slog.LevelError, msg) }
func (g *logger) Errorf(format string, args ...any) {
	g.logExpected(slog.LevelError, fmt.Sprintf(format, args...))
}

// expected lists pion warnings and errors that every normal call produces
// and that say nothing is wrong: ICE pinging before it has a candidate
// pair, RTCP for a stream not bound yet, and the messages of a connection
// being closed (DTLS and mux; the loops that wait for new RTP and RTCP
// streams ending; candidate-pair stats asked of a closed ICE agent, as
// Stats does when the peer hangs up). They go to debug. Each names the
// close it follows, so that the same message with another cause keeps its
// level.
var expected = []string{
	"Failed to ping without candidate pairs",
	"Incoming unhandled RTCP ssrc",
	"dtls fatal: conn is closed",
	"mux: no endpoint for packet",
	"Failed to accept RTP stream is already closed",
	"Failed to accept RTCP stream is already closed",
	"Failed to get selected candidate pair stats: the agent is closed",
}

// closedReads are the starts of messages that a socket being closed
// produces as the agent shuts down (a relayed candidate's read loop); they
// are expected only with that cause, closedConn.
var closedReads = []string{"Failed to read from candidate"}

const closedConn = "use of closed network connection"

// logExpected logs msg at l, or at debug when it is an expected one.
func (g *logger) logExpected(l slog.Level, msg string) {
	for _, e := range expected {
		if strings.Contains(msg, e) {
			l = slog.LevelDebug
			break
		}
	}
	for _, e := range closedReads {
		if strings.HasPrefix(msg, e) && strings.HasSuffix(msg, closedConn) {
			l = slog.LevelDebug
		}
	}
	g.log(l, msg)
}

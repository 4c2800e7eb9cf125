package livekit

import (
	"context"
	"log/slog"

	"github.com/go-logr/logr"
	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// sdkLogger routes LiveKit's SDK (and pion's, through it) into log, one
// level down: its info messages (every ICE and signaling state change)
// become debug, its warnings info, so the robot's own log stays readable.
func sdkLogger(log *slog.Logger) protoLogger.Logger {
	return protoLogger.LogRLogger(logr.FromSlogHandler(demote{log.Handler()}))
}

type demote struct{ h slog.Handler }

func lower(l slog.Level) slog.Level {
	if l >= slog.LevelError {
		return l
	}
	return l - 4
}

func (d demote) Enabled(ctx context.Context, l slog.Level) bool {
	return d.h.Enabled(ctx, lower(l))
}

func (d demote) Handle(ctx context.Context, r slog.Record) error {
	r.Level = lower(r.Level)
	return d.h.Handle(ctx, r)
}

func (d demote) WithAttrs(as []slog.Attr) slog.Handler { return demote{d.h.WithAttrs(as)} }
func (d demote) WithGroup(name string) slog.Handler    { return demote{d.h.WithGroup(name)} }

// SetSDKLogger sends the messages LiveKit's SDK logs outside any session
// (pion's ICE and peer connection states among them) to log, one level
// down as a Session does. The SDK keeps this logger in a package
// variable, so it applies to the whole program.
func SetSDKLogger(log *slog.Logger) { lksdk.SetLogger(sdkLogger(log)) }

// Package cli holds the flag and logging plumbing the example programs
// share.
package cli

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/avlink/avlink/rtclink"
)

// ICE registers -ice, -ice-user and -ice-pass and returns a function that
// builds the ICE servers from them after flag.Parse.
func ICE() func() []rtclink.ICEServer {
	var urls listFlag
	flag.Var(&urls, "ice", "STUN or TURN URL (repeatable), e.g. turn:host:3478")
	user := flag.String("ice-user", "", "TURN username")
	pass := flag.String("ice-pass", os.Getenv("AVLINK_TURN_PASSWORD"), "TURN password (default $AVLINK_TURN_PASSWORD)")
	return func() []rtclink.ICEServer {
		var out []rtclink.ICEServer
		for _, u := range urls {
			s := rtclink.ICEServer{URLs: []string{u}}
			if strings.HasPrefix(u, "turn") {
				s.Username, s.Credential = *user, *pass
			}
			out = append(out, s)
		}
		return out
	}
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// Logger returns a text logger on stderr, at debug level when verbose.
func Logger(verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// Report logs the session's stats every five seconds while it has a peer
// connection, until ctx ends.
func Report(ctx context.Context, s *rtclink.Session, log *slog.Logger) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if st := s.Stats(); st.State != "" {
			log.Info("stats", "session", st)
		}
	}
}

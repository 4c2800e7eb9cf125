package pionlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLevelsAndScope(t *testing.T) {
	var buf bytes.Buffer
	f := Factory{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	l := f.NewLogger("ice")
	l.Debugf("hidden %d", 1)
	l.Info("hidden too")
	l.Warnf("port %d busy", 5000)
	l.Error("broken")
	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Errorf("debug and info must be below info: %q", out)
	}
	for _, want := range []string{"level=WARN", "port 5000 busy", "scope=pion/ice", "level=ERROR", "broken"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in %q", want, out)
		}
	}
}

func TestExpectedWarningsGoToDebug(t *testing.T) {
	var buf bytes.Buffer
	f := Factory{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	l := f.NewLogger("pc")
	l.Warn("Failed to ping without candidate pairs. Connection is not possible yet.")
	l.Warnf("Incoming unhandled RTCP ssrc(%d), OnTrack will not be fired", 1234)
	l.Errorf("Failed to start manager: %v", "dtls fatal: conn is closed")
	l.Warnf("Warning: mux: no endpoint for packet starting with %d", 23)
	l.Warnf("Failed to accept RTP %v", "stream is already closed")
	l.Warnf("Failed to accept RTCP %v", "stream is already closed")
	l.Errorf("Failed to get selected candidate pair stats: %v", "the agent is closed")
	l.Warnf("Failed to read from candidate %s: %v", "udp4 relay 192.0.2.2:63080", "read udp 192.0.2.2:63080: use of closed network connection")
	// The same messages with another cause, and other warnings, are real.
	l.Warnf("Failed to start SCTP: %s", "timeout")
	l.Warnf("Failed to accept RTP %v", "srtp: invalid key")
	l.Errorf("Failed to get selected candidate pair stats: %v", "no selected pair")
	l.Warnf("Failed to read from candidate %s: %v", "udp4 relay 192.0.2.2:63080", "read udp 192.0.2.2:63080: i/o timeout")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 12 {
		t.Fatalf("want 12 lines, got %q", buf.String())
	}
	for _, line := range lines[:8] {
		if !strings.Contains(line, "level=DEBUG") {
			t.Errorf("expected noise not at debug: %q", line)
		}
	}
	for _, line := range lines[8:] {
		if strings.Contains(line, "level=DEBUG") {
			t.Errorf("a real warning or error lost its level: %q", line)
		}
	}
	if !strings.Contains(lines[10], "level=ERROR") {
		t.Errorf("an error is no longer an error: %q", lines[10])
	}
}

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

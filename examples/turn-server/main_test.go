package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/avlink/avlink/internal/turntest"
)

// syncWriter is an io.Writer tests can read while the server writes.
type syncWriter struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestConfIgnoredKeysLogged runs the command on a turnserver.conf with
// coturn's process settings: it starts, and the keys it ignores are
// reported on one line.
func TestConfIgnoredKeysLogged(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "turnserver.conf")
	text := "listening-ip=127.0.0.1\nlistening-port=" + strconv.Itoa(turntest.FreePort(t)) + "\n" +
		"realm=example.org\nuser=robot:s3cret\nfingerprint\n" +
		"no-cli\nsimple-log\nverbose\nlog-file=stdout\npidfile=/run/turnserver.pid\nno-stdout-log\nno-dtls\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve, then stop at once
	out := &syncWriter{}
	if err := run(ctx, []string{"-c", conf}, out); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	logs := out.String()
	var lines []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "ignored") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") ||
		!strings.Contains(lines[0], "keys=no-cli,simple-log,pidfile,no-stdout-log") {
		t.Fatalf("want one line listing the ignored keys, got %q in:\n%s", lines, logs)
	}
	if !strings.Contains(logs, "msg=ready") {
		t.Fatalf("the server did not start:\n%s", logs)
	}
}

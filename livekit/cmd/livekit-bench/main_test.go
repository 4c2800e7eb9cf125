package main

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/avlink/avlink/livekit/internal/lkserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary be the robot's child process, as the
// command is.
func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := runRobot(mode, os.Args[1:]); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The command runs every path and prints a positive figure in every
// cell.
func TestBenchPrintsFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("runs livekit-server and robots for about 20 s")
	}
	bin := lkserver.Binary(t)
	nodes, want := "1", 2
	if _, err := exec.LookPath("redis-server"); err == nil {
		nodes, want = "1,2", 3
	}
	var out bytes.Buffer
	require.NoError(t, run([]string{"-warmup", "1s", "-window", "2s", "-subscribers", "2", "-nodes", nodes, "-server", bin}, &out))
	t.Logf("\n%s", out.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2+want, "a heading, a header and a line per path")
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		require.GreaterOrEqual(t, len(f), 6, l)
		for _, cell := range f[len(f)-5:] {
			x, err := strconv.ParseFloat(cell, 64)
			if assert.NoError(t, err, l) {
				assert.Positive(t, x, l)
			}
		}
	}
}

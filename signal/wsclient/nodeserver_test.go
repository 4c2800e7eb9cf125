package wsclient

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/signal"
)

// nodeServer runs the re-creation of the original deployment's Node.js
// signaling server (internal/signalbench/node/server.js, on the npm
// package ws) on a free loopback port, as internal/interop does, and
// returns its ws:// URL. It skips the test when node or npm is missing or
// ws cannot be installed.
func nodeServer(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped in -short: starts the original Node.js server (node, npm install ws)")
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIPPED: the original Node.js server needs %s, which is not on PATH: %v", tool, err)
		}
	}
	dir := t.TempDir()
	for _, f := range []string{"server.js", "package.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "internal", "signalbench", "node", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: npm install ws for the original Node.js server failed (no registry?): %v: %s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("node", "server.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	ready, scanned := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(out)
		started := false
		for sc.Scan() {
			if !started && strings.Contains(sc.Text(), "signaling server on") {
				started = true
				close(ready)
			}
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-scanned; _ = cmd.Wait() })
	select {
	case <-ready:
	case <-scanned:
		t.Fatal("the Node.js server exited before it listened")
	case <-time.After(20 * time.Second):
		t.Fatal("the Node.js server did not start")
	}
	return fmt.Sprintf("ws://127.0.0.1:%d", port)
}

// The original Node.js server sends no features header: the client says
// it does not acknowledge joins, and messages still get through.
func TestNodeServerDoesNotAcknowledgeJoins(t *testing.T) {
	url := nodeServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := Dial(ctx, url, "realsense", &DialOptions{Logger: quietLogger()})
	require.NoError(t, err)
	defer a.Close()
	assert.False(t, a.AcknowledgesJoins())
	// Its ids are Date.now() in base 36: two clients in one millisecond
	// would share one.
	time.Sleep(5 * time.Millisecond)
	b, err := Dial(ctx, url, "realsense", &DialOptions{Logger: quietLogger()})
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, b.Send(ctx, signal.Message{Type: signal.TypeOffer, SDP: "v=0"}))
	m := recvUntil(t, ctx, a, signal.TypeOffer)
	assert.Equal(t, "v=0", m.SDP)
	assert.NotEmpty(t, m.Sender)
	assert.Empty(t, a.ID(), "no joined answer, no id")
}

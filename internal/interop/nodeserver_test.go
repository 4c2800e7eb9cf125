package interop

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

	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/require"
)

// originalServer runs the original deployment's Node.js signaling server
// (re-created in internal/signalbench/node on the npm package ws): no
// rooms, no peer events, ids from Date.now(). It returns its ws:// URL.
func originalServer(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s for the original deployment's Node.js signaling server", tool)
		}
	}
	dir := t.TempDir()
	for _, f := range []string{"server.js", "package.json"} {
		b, err := os.ReadFile(filepath.Join("..", "signalbench", "node", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("npm install ws failed (no registry?): %v: %s", err, out)
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
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "signaling server on") {
				close(ready)
			}
			if verbose() {
				t.Log("node:", sc.Text())
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("the Node server did not start")
	}
	return fmt.Sprintf("ws://127.0.0.1:%d", port)
}

// Our sessions work through the original deployment's Node.js signaling
// server too, whichever side starts first: it announces nobody, so the
// robot offers to the room when no acknowledgement comes, and again when
// it sees the viewer's forwarded join.
func TestOriginalNodeServer(t *testing.T) {
	url := originalServer(t)
	for _, robotFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("robot first %v", robotFirst), func(t *testing.T) {
			video := newVideoCollector()
			startViewer := func() {
				v, err := rtclink.New(rtclink.Config{
					Signaler: dial(t, url, "realsense"), ReceiveVideo: videoReceiver(video), IncludeLoopback: true, Logger: testLogger(),
				})
				require.NoError(t, err)
				t.Cleanup(func() { v.Close() })
			}
			startRobot := func() {
				r, err := rtclink.New(rtclink.Config{
					Signaler: dial(t, url, "realsense"), Role: rtclink.Offerer, Video: videoSender(t, 320, 240),
					IncludeLoopback: true, Logger: testLogger(),
				})
				require.NoError(t, err)
				t.Cleanup(func() { r.Close() })
			}
			first, second := startViewer, startRobot
			if robotFirst {
				first, second = startRobot, startViewer
			}
			first()
			// The Node.js server's ids are Date.now() in base 36: two
			// clients in the same millisecond would share one.
			time.Sleep(2 * time.Second)
			second()
			video.WaitFirst(t, 20*time.Second)
		})
	}
}

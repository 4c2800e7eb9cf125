package interop

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/signalbench"
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
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := signalbench.StartProcess(ctx, "", signalbench.KindNode)
	if errors.Is(err, signalbench.ErrServerStart) && strings.Contains(err.Error(), "npm install") {
		t.Skipf("npm install ws failed (no registry?): %v", err)
	}
	require.NoError(t, err, "the Node server did not start")
	t.Cleanup(p.Close)
	return p.URL()
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

package wsclient

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/internal/signalbench"
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
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := signalbench.StartProcess(ctx, "", signalbench.KindNode)
	if errors.Is(err, signalbench.ErrServerStart) && strings.Contains(err.Error(), "npm install") {
		t.Skipf("SKIPPED: npm install ws for the original Node.js server failed (no registry?): %v", err)
	}
	require.NoError(t, err, "the Node.js server did not start")
	t.Cleanup(p.Close)
	return p.URL()
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

package signalbench

import (
	"context"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallConfig is a whole run at toy size: every phase, a fraction of a
// second each.
func smallConfig(k Kind) Config {
	return Config{Repo: "../..", Servers: []Kind{k}, Counts: []int{10}, Runs: 1,
		Duration: 500 * time.Millisecond, Warmup: 200 * time.Millisecond, Settle: 200 * time.Millisecond,
		PacedClients: 10, PacedDuration: 500 * time.Millisecond}
}

func checkRun(t *testing.T, rep *Report, k Kind) {
	t.Helper()
	require.Len(t, rep.Results, 1)
	r := rep.Results[0]
	assert.Equal(t, k, r.Kind)
	assert.Equal(t, 10, r.Held)
	assert.Zero(t, r.Dropped)
	assert.Positive(t, r.Delivered, "the load got through")
	assert.Positive(t, r.PerCPUSecond)
	require.Len(t, rep.Paced, 1)
	assert.Positive(t, rep.Paced[0].Samples, "paced messages were timed")
	assert.Zero(t, rep.Paced[0].Dropped)
	var b strings.Builder
	require.NoError(t, rep.WriteMarkdown(&b))
	assert.Contains(t, b.String(), "| 10 | "+string(k)+" | 10 | 0 |")
}

func TestRunGoServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and loads the signaling server")
	}
	rep, err := Run(context.Background(), smallConfig(KindGo))
	require.NoError(t, err)
	checkRun(t, rep, KindGo)
	r := rep.Results[0]
	assert.Equal(t, 1, r.Rooms, "10 connections make one room of 10")
	if runtime.GOOS == "linux" {
		assert.Less(t, r.Goroutines, 0.5, "idle connections wait in the server's epoll set, not a goroutine each")
	} else {
		assert.InDelta(t, 1, r.Goroutines, 0.5, "one goroutine per idle connection")
	}
	assert.Zero(t, r.ServerDrops)
}

func TestRunNodeServer(t *testing.T) {
	if testing.Short() {
		t.Skip("installs ws with npm and loads the Node server")
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	rep, err := Run(context.Background(), smallConfig(KindNode))
	require.NoError(t, err)
	checkRun(t, rep, KindNode)
}

func TestRunReportsAServerThatDoesNotStart(t *testing.T) {
	cfg := smallConfig(KindGo)
	cfg.GoServer = "/bin/false"
	_, err := Run(context.Background(), cfg)
	assert.ErrorIs(t, err, ErrServerStart)
}

func TestRunRefusesAnUnknownServer(t *testing.T) {
	_, err := Run(context.Background(), smallConfig("deno"))
	assert.ErrorIs(t, err, ErrConfig)
}

func TestRunFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the signaling server and nats-server and loads them")
	}
	cfg := smallConfig(KindGo)
	cfg.Instances = []int{1, 2}
	rep, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Len(t, rep.Fleet, 2)
	for _, f := range rep.Fleet {
		assert.Zero(t, f.Dropped)
		assert.Positive(t, f.Delivered, "the load got through %d servers", f.Instances)
		assert.Zero(t, f.ServerDrops)
	}
	assert.Zero(t, rep.Fleet[0].NATSCPU, "one server needs no NATS")
	require.Len(t, rep.FleetPaced, 2)
	for _, p := range rep.FleetPaced {
		assert.Positive(t, p.Samples)
		assert.Zero(t, p.Dropped)
	}
	var b strings.Builder
	require.NoError(t, rep.WriteMarkdown(&b))
	assert.Contains(t, b.String(), "| 2 | 10 | ")
	assert.Contains(t, b.String(), "this one machine")
}

func TestShare(t *testing.T) {
	assert.Equal(t, []int{34, 33, 33}, []int{share(100, 3, 0), share(100, 3, 1), share(100, 3, 2)})
}

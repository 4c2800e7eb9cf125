package mediabench

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// examples/sender, built and run as a user runs it, reaches the measuring
// receiver; examples/receiver decodes it; both report their own process;
// with -viewers it serves several measuring receivers at once.
func TestProgramRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example programs")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	progs, err := BuildPrograms(ctx, "../..")
	require.NoError(t, err)
	defer progs.Close()
	url := signaling(t)
	exe, err := os.Executable()
	require.NoError(t, err)
	recv := PeerConfig{Mode: ReceiveDecode, Warmup: 500 * time.Millisecond, Window: 2 * time.Second}

	run, err := RunProgram(exe, progs, url, "programs", recv, false, nil)
	require.NoError(t, err)
	require.NotNil(t, run.Receiver)
	r := run.Receiver
	assert.False(t, run.SenderStarted.After(run.SenderJoined), "joined before it started")
	assert.False(t, run.SenderJoined.After(run.SenderConnected), "connected before it joined")
	assert.True(t, r.First.After(run.SenderJoined), "first frame before the sender joined")
	assert.Positive(t, r.Frames)
	assert.Len(t, r.LatencyMs, r.Frames-r.Unreadable)
	assert.Positive(t, run.SenderCPUPercent)
	assert.LessOrEqual(t, run.SenderCPUPercent, 100*float64(runtime.NumCPU())+1, "more CPU than the cores could give")
	assert.Positive(t, run.SenderExit)

	run, err = RunProgram(exe, progs, url, "programs-receiver", recv, true, nil)
	require.NoError(t, err)
	assert.Nil(t, run.Receiver)
	assert.Positive(t, run.ReceiverCPUPercent, "examples/receiver used no CPU while decoding")
	assert.Positive(t, run.SenderCPUPercent)

	// Two viewers of a sender that serves three, each its own process:
	// both decode, from the one encoder.
	vr, err := RunViewers(exe, progs, url, "programs-viewers", recv, 2, 3, nil)
	require.NoError(t, err)
	require.Len(t, vr.Receivers, 2)
	for _, p := range vr.Receivers {
		assert.Positive(t, p.Frames, "a viewer decoded nothing")
		assert.NotEmpty(t, p.LatencyMs, "a viewer read no stamp")
	}
	assert.Positive(t, vr.MinFPS())
	assert.Positive(t, vr.LatencyP50())
	assert.Positive(t, vr.SenderCPUPercent)
	_, err = RunViewers(exe, progs, url, "bad", recv, 3, 2, nil)
	assert.ErrorIs(t, err, ErrConfig)

	rep := &Report{Programs: []ProgramRun{run}}
	rows := rep.programRows()
	require.NotEmpty(t, rows)
	assert.Contains(t, rows[0].Name, "examples/sender joins")
}

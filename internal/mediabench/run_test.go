package mediabench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain doubles as the peer process: RunPair re-executes the test
// binary with -peer, as the command re-executes itself.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "-"+ChildFlag {
		var cfg PeerConfig
		err := json.Unmarshal([]byte(os.Args[2]), &cfg)
		if err == nil {
			err = RunChild(context.Background(), cfg, os.Stdin, os.Stdout)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "peer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

func signaling(t *testing.T) string {
	t.Helper()
	s, err := StartSignaling(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s.URL
}

// short is a small, quick configuration: the figures do not matter here,
// only that each kind of peer produces them.
func short(url, room string, m Mode) PeerConfig {
	return PeerConfig{Mode: m, Signal: url, Room: room, Width: 320, Height: 240,
		Warmup: 200 * time.Millisecond, Window: time.Second, Timeout: 15 * time.Second}
}

func TestPairInTwoProcesses(t *testing.T) {
	url := signaling(t)
	send, recv := short(url, "p", SendVideo), short(url, "p", ReceiveDecode)
	recv.ReuseFrames = true
	p, err := RunPair(os.Args[0], send, recv, nil)
	require.NoError(t, err)

	assert.Positive(t, p.Sender.Stats.FramesSent)
	assert.Positive(t, p.Sender.Stats.EncodeTime)
	assert.Positive(t, p.Receiver.Stats.DecodeTime)
	assert.NotEmpty(t, p.Receiver.LatencyMs, "stamps read from decoded frames")
	assert.Equal(t, p.Receiver.Frames, len(p.Receiver.LatencyMs)+p.Receiver.Unreadable)
	assert.True(t, p.Sender.JoinStart.Before(p.Sender.Dialled) && p.Sender.Dialled.Before(p.Sender.Connected))
	assert.True(t, p.Sender.Connected.Before(p.Receiver.First), "first frame after the sender connected")
	assert.False(t, p.Receiver.FirstStamp.IsZero(), "first frame's stamp read")
	assert.Positive(t, p.Sender.Memory.RSS)
	assert.GreaterOrEqual(t, p.Sender.CPUPercent, 0.0)
	assert.InDelta(t, time.Second, p.Receiver.Window, float64(500*time.Millisecond))
}

func TestFailingPeerGivesClearError(t *testing.T) {
	cfg := short("ws://127.0.0.1:1", "x", ReceiveDecode) // nothing listens on port 1
	cfg.Timeout = 2 * time.Second
	_, err := RunPair(os.Args[0], short("ws://127.0.0.1:1", "x", SendVideo), cfg, nil)
	require.ErrorIs(t, err, ErrPeer)
	assert.Contains(t, err.Error(), "receiver exited")
	assert.Contains(t, err.Error(), "join ws://127.0.0.1:1", "the peer's own error is passed on")
}

func TestInProcessRuns(t *testing.T) {
	url := signaling(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("psnr", func(t *testing.T) {
		send, recv := short(url, "q", SendVideo), short(url, "q", ReceiveDecode)
		ring := NewFrameRing(64)
		send.Ring, recv.Ring = ring, ring
		p, err := RunInProcess(ctx, send, recv)
		require.NoError(t, err)
		require.NotEmpty(t, p.Receiver.PSNR, "decoded frames matched to sent ones")
		var y []float64
		for _, q := range p.Receiver.PSNR {
			y = append(y, q.Y)
		}
		assert.Greater(t, Median(y), 30.0, "decoded frames resemble the sent ones")
	})
	t.Run("samples", func(t *testing.T) {
		p, err := RunInProcess(ctx, short(url, "s", SendVideo), short(url, "s", ReceiveSamples))
		require.NoError(t, err)
		assert.NotEmpty(t, p.Receiver.LatencyMs, "stamps read from frames decoded after the window")
		assert.Zero(t, p.Receiver.Stats.FramesDecoded, "the session itself decoded nothing")
		for _, l := range p.Receiver.LatencyMs {
			assert.GreaterOrEqual(t, l, 0.0, "the last packet cannot precede the capture (stamps truncate to the ms)")
		}
	})
	t.Run("audio", func(t *testing.T) {
		send, recv := short(url, "a", SendAudio), short(url, "a", ReceiveAudio)
		recv.Window = 1500 * time.Millisecond // at least two clicks, 500 ms apart
		p, err := RunInProcess(ctx, send, recv)
		require.NoError(t, err)
		d := AudioDelaysMs(p)
		require.NotEmpty(t, d, "clicks found at both ends")
		for _, x := range d {
			assert.Greater(t, x, 20.0, "a click leaves only when its 20 ms frame is full")
		}
	})
	t.Run("memory", func(t *testing.T) {
		cfg := short(url, "m", MemoryPairs)
		cfg.Pairs = 2
		m, err := RunMemory(ctx, cfg)
		require.NoError(t, err)
		assert.Equal(t, 2, m.Pairs)
		assert.Positive(t, m.RSSOne)
		assert.Positive(t, m.HeapAll)
	})
}

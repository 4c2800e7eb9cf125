package mediabench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
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

// assertCPU checks a peer's CPU figures: positive when its process did
// work, no more than its cores could give in the window (which catches a
// misread unit), and the percentage computed from them.
func assertCPU(t *testing.T, who string, r PeerResult) {
	t.Helper()
	assert.Positive(t, r.CPU, "%s: CPU time spent in the window", who)
	assert.Positive(t, r.CPUPercent, "%s: CPU share", who)
	// The first reading comes just before the window opens: allow for
	// that moment.
	assert.LessOrEqual(t, r.CPU, time.Duration(runtime.NumCPU())*(r.Window+10*time.Millisecond),
		"%s: more CPU than %d cores give in %v", who, runtime.NumCPU(), r.Window)
	assert.InDelta(t, 100*float64(r.CPU)/float64(r.Window), r.CPUPercent, 1e-9, "%s: CPUPercent is CPU over the window", who)
}

// assertLatencies checks per-frame latencies: every frame was received
// after it was captured, and the percentiles the report prints are in
// order.
func assertLatencies(t *testing.T, lat []float64) {
	t.Helper()
	require.NotEmpty(t, lat)
	for i, l := range lat {
		// Stamps truncate the capture time to the millisecond, so a
		// frame can never seem to arrive before it was captured.
		require.Positive(t, l, "frame %d of the window", i)
	}
	p50, p95, top := Percentile(lat, 50), Percentile(lat, 95), Percentile(lat, 100)
	assert.Positive(t, p50)
	assert.LessOrEqual(t, p50, p95)
	assert.LessOrEqual(t, p95, top)
	assert.Equal(t, slices.Max(lat), top)
}

func TestPairInTwoProcesses(t *testing.T) {
	url := signaling(t)
	send, recv := short(url, "p", SendVideo), short(url, "p", ReceiveDecode)
	recv.ReuseFrames = true
	p, err := RunPair(os.Args[0], send, recv, nil)
	require.NoError(t, err)
	s, r := p.Sender, p.Receiver
	t.Logf("sender pid %d: %v CPU in %v, %d frames sent; receiver pid %d: %v CPU, %d frames in the window (%d unreadable)",
		s.PID, s.CPU, s.Window, s.Stats.VideoOut.FramesSent, r.PID, r.CPU, r.Frames, r.Unreadable)

	// Each side measured its own process, and neither is this one.
	assert.Positive(t, s.PID)
	assert.Positive(t, r.PID)
	assert.NotEqual(t, s.PID, r.PID, "sender and receiver in one process")
	assert.NotEqual(t, os.Getpid(), s.PID, "the sender's figures are this process's")
	assert.NotEqual(t, os.Getpid(), r.PID, "the receiver's figures are this process's")
	// A timer never fires early: a window shorter than asked for was cut.
	assert.GreaterOrEqual(t, s.Window, send.Window)
	assert.GreaterOrEqual(t, r.Window, recv.Window)
	assertCPU(t, "sender", s)
	assertCPU(t, "receiver", r)
	assert.Positive(t, s.Memory.RSS)
	assert.GreaterOrEqual(t, s.Memory.HWM, s.Memory.RSS, "peak below the current RSS")
	assert.Positive(t, r.Memory.RSS)

	// Frames: encoded and sent, received, decoded, stamps read.
	assert.Positive(t, s.Stats.VideoOut.FramesSent)
	assert.LessOrEqual(t, s.Stats.VideoOut.FramesSent, s.Stats.VideoOut.FramesEncoded, "sent more frames than were encoded")
	assert.Positive(t, s.Stats.Transport.BitrateOut)
	assert.Positive(t, s.Stats.VideoOut.EncodeTime)
	assert.Positive(t, r.Stats.VideoIn.DecodeTime)
	assert.Positive(t, r.Stats.VideoIn.FPS)
	assert.Positive(t, r.Frames, "frames decoded in the window")
	assert.Equal(t, r.Frames, len(r.LatencyMs)+r.Unreadable, "every frame of the window read or counted unreadable")
	assert.LessOrEqual(t, int64(r.Frames), r.Stats.VideoIn.FramesDecoded, "more frames in the window than the session decoded")
	assert.Less(t, 10*r.Unreadable, r.Frames, "stamps unreadable in more than a tenth of a lossless loopback stream")
	assertLatencies(t, r.LatencyMs)

	// The join: dialled, connected, then the first frame, which was
	// captured before it was decoded.
	assert.True(t, s.JoinStart.Before(s.Dialled) && s.Dialled.Before(s.Connected))
	assert.True(t, s.Connected.Before(r.First), "first frame after the sender connected")
	require.False(t, r.FirstStamp.IsZero(), "first frame's stamp read")
	assert.False(t, r.FirstStamp.After(r.First), "first frame decoded before its capture")
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
	// The runs of each kind, for the report at the end.
	var quality, samples, audio *Pair
	var memory *MemoryResult

	t.Run("psnr", func(t *testing.T) {
		send, recv := short(url, "q", SendVideo), short(url, "q", ReceiveDecode)
		ring := NewFrameRing(64)
		send.Ring, recv.Ring = ring, ring
		p, err := RunInProcess(ctx, send, recv)
		require.NoError(t, err)
		quality = &p
		assert.Equal(t, os.Getpid(), p.Sender.PID, "in-process runs measure this process")
		assert.Equal(t, os.Getpid(), p.Receiver.PID)
		assertCPU(t, "sender and receiver", p.Sender)
		assertLatencies(t, p.Receiver.LatencyMs)
		require.NotEmpty(t, p.Receiver.PSNR, "decoded frames matched to sent ones")
		assert.LessOrEqual(t, len(p.Receiver.PSNR), len(p.Receiver.LatencyMs), "a PSNR for a frame whose stamp was not read")
		var y []float64
		for _, q := range p.Receiver.PSNR {
			y = append(y, q.Y)
		}
		assert.Greater(t, Median(y), 30.0, "decoded frames resemble the sent ones")
	})
	t.Run("samples", func(t *testing.T) {
		p, err := RunInProcess(ctx, short(url, "s", SendVideo), short(url, "s", ReceiveSamples))
		require.NoError(t, err)
		samples = &p
		r := p.Receiver
		assert.Zero(t, r.Stats.VideoIn.FramesDecoded, "the session itself decoded nothing")
		assert.Positive(t, r.Frames, "frames whose last packet came in the window")
		assert.Equal(t, r.Frames, len(r.LatencyMs)+r.Unreadable)
		assert.LessOrEqual(t, int64(r.Frames), r.Stats.VideoIn.FramesReceived, "more frames in the window than the session received")
		// Stamps read from frames decoded after the window; the last
		// packet cannot precede the capture (stamps truncate to the ms).
		assertLatencies(t, r.LatencyMs)
	})
	t.Run("audio", func(t *testing.T) {
		send, recv := short(url, "a", SendAudio), short(url, "a", ReceiveAudio)
		recv.Window = 1500 * time.Millisecond // at least two clicks, 500 ms apart
		p, err := RunInProcess(ctx, send, recv)
		require.NoError(t, err)
		audio = &p
		assert.Positive(t, p.Receiver.Frames, "audio blocks decoded in the window")
		assert.LessOrEqual(t, int64(p.Receiver.Frames), p.Receiver.Stats.AudioIn.FramesDecoded)
		d := AudioDelaysMs(p)
		require.GreaterOrEqual(t, len(d), 2, "clicks found at both ends")
		for _, x := range d {
			assert.Greater(t, x, 20.0, "a click leaves only when its 20 ms frame is full")
		}
	})
	t.Run("memory", func(t *testing.T) {
		cfg := short(url, "m", MemoryPairs)
		cfg.Pairs = 2
		m, err := RunMemory(ctx, cfg)
		require.NoError(t, err)
		memory = &m
		assert.Equal(t, 2, m.Pairs)
		assert.Positive(t, m.RSSOne)
		assert.Positive(t, m.HeapOne)
		assert.Positive(t, m.HeapAll)
		// How much a pair adds is the bench's figure: in a short run the
		// live heap moves with what is in flight by as much as a pair
		// takes, so it is printed, not compared.
	})
	// With every kind of run, every row of the report has a value and is
	// printed, in order.
	t.Run("report", func(t *testing.T) {
		require.True(t, quality != nil && samples != nil && audio != nil && memory != nil, "a run above failed")
		r := &Report{Video: []Pair{*quality}, Samples: []Pair{*samples}, Audio: []Pair{*audio},
			Quality: []Pair{*quality}, Memory: memory}
		rows := r.Rows()
		var b strings.Builder
		require.NoError(t, r.Markdown(&b))
		var lines []string
		for _, l := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| Figure |") {
				lines = append(lines, l)
			}
		}
		require.Len(t, lines, len(rows), "table lines")
		for i, row := range rows {
			assert.False(t, math.IsNaN(row.Median), "%q has no value", row.Name)
			assert.True(t, strings.HasPrefix(lines[i], "| "+row.Name+" | "+num(row.Median)+" | "), "line %d: %s", i, lines[i])
		}
		for _, want := range []string{
			"Capture-to-decoded video latency p50", "Stamp → last packet of the frame received p50",
			"Encode time per frame", "Decode time per frame", "Audio latency p50",
			"Sender joins (wsclient.Dial) → first decoded frame", "Sender CPU, video", "Receiver CPU, video decoded",
			"Receiver CPU, video received but not decoded", "Sender CPU, audio only", "Receiver CPU, audio only",
			"PSNR of decoded against sent frames", "Sender process RSS", "Memory per sender+receiver pair, RSS growth",
		} {
			assert.Contains(t, b.String(), "| "+want, "a row of each kind")
		}
	})
}

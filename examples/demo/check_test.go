package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/cdp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The self-check (-check) passes on this machine: the page decodes the
// robot's picture, shows its latency and gets its audio, the robot hears
// the page's talk-back at the pitch sent, and a key press comes back.
func TestSelfCheck(t *testing.T) {
	if _, err := os.Stat(cdp.DefaultPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Chromium at %s, and CI must run the demo's self-check", cdp.DefaultPath)
		}
		t.Skipf("no Chromium at %s (Debian: apt-get install chromium); CI runs this", cdp.DefaultPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := &lockedBuffer{}
	err := selfCheck(ctx, options{room: "demo"}, cdp.DefaultPath, out, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Logf("self-check output:\n%s", out.String())
	require.NoError(t, err)
	s := out.String()
	assert.Contains(t, s, "self-check passed")
	assert.NotContains(t, s, "MISSING")
	m := regexp.MustCompile(`frames decoded in the page:\s+(\d+)`).FindStringSubmatch(s)
	require.NotNil(t, m, "no frame count")
	n, _ := strconv.Atoi(m[1])
	assert.Positive(t, n)
	m = regexp.MustCompile(`talk-back tone heard by the robot:\s+([\d.]+) Hz`).FindStringSubmatch(s)
	require.NotNil(t, m, "no talk-back pitch")
	hz, _ := strconv.ParseFloat(m[1], 64)
	assert.InDelta(t, talkHz, hz, 10)
	assert.Regexp(t, `capture-to-screen latency:\s+\d+ ms`, s)
	assert.Regexp(t, `robot's audio level in the page:\s+-?[\d.]+ dBFS`, s)
	assert.Regexp(t, `teleop round trip:\s+\d+ ms`, s)
}

// Without Chromium the check says so, naming the path it looked at.
func TestSelfCheckWithoutChromium(t *testing.T) {
	err := selfCheck(context.Background(), options{}, "/nonexistent/chromium", io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent/chromium")
	assert.Contains(t, err.Error(), "-chromium")
}

// The report names each missing figure, and a wrong talk-back pitch or
// silence counts as missing.
func TestSelfCheckReport(t *testing.T) {
	ms := func(v float64) *float64 { return &v }
	all := checkFigures{frames: 90, latencyMs: ms(30), audioDBFS: ms(-23), talkHz: 600.2, talkHeard: 2 * time.Second, teleopRTTMs: ms(2)}
	require.NoError(t, report(io.Discard, all))

	for name, c := range map[string]struct {
		mutate func(*checkFigures)
		want   string
	}{
		"no frames":       {func(f *checkFigures) { f.frames = 0 }, "decoded video frames"},
		"no latency":      {func(f *checkFigures) { f.latencyMs = nil }, "latency"},
		"no audio":        {func(f *checkFigures) { f.audioDBFS = nil }, "the robot's audio in the page"},
		"silence":         {func(f *checkFigures) { f.audioDBFS = ms(-120) }, "the robot's audio in the page (got -120.0 dBFS)"},
		"nothing heard":   {func(f *checkFigures) { f.talkHz, f.talkHeard = 0, 0 }, "talk-back tone"},
		"wrong pitch":     {func(f *checkFigures) { f.talkHz = 400 }, "talk-back tone at the robot (got 400.0 Hz"},
		"no teleop reply": {func(f *checkFigures) { f.teleopRTTMs = nil }, "teleop round trip"},
	} {
		t.Run(name, func(t *testing.T) {
			f := all
			c.mutate(&f)
			out := &lockedBuffer{}
			err := report(out, f)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, out.String(), "MISSING")
			assert.Contains(t, out.String(), "self-check FAILED")
		})
	}
}

// The robot's level logger measures the pitch of the last second it
// heard, on the first channel.
func TestLevelLogTone(t *testing.T) {
	l := newLevelLog(slog.New(slog.NewTextHandler(io.Discard, nil)))
	hz, _, heard := l.Tone()
	assert.Zero(t, hz)
	assert.Zero(t, heard)
	// 1.5 s of stereo in 20 ms blocks: 300 Hz at first, 600 Hz for the
	// last second, with 1000 Hz on the second channel.
	const rate = 48000
	for b := range 75 {
		f := &capture.AudioFrame{Rate: rate, Channels: 2, Samples: make([]int16, 2*960)}
		for i := range 960 {
			n := float64(b*960 + i)
			left := 600.0
			if b < 25 {
				left = 300
			}
			f.Samples[2*i] = int16(0.5 * math.MaxInt16 * math.Sin(2*math.Pi*left*n/rate))
			f.Samples[2*i+1] = int16(0.2 * math.MaxInt16 * math.Sin(2*math.Pi*1000*n/rate))
		}
		require.NoError(t, l.WriteAudio(f))
	}
	hz, amp, heard := l.Tone()
	assert.InDelta(t, 600, hz, 1)
	assert.InDelta(t, 0.5, amp, 0.02)
	assert.Equal(t, 1500*time.Millisecond, heard)
}

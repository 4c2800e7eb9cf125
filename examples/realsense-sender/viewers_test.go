package main

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/internal/pulsetest"
	"github.com/avlink/avlink/internal/rtctest"
	"github.com/avlink/avlink/rtclink"
)

// power is the energy of samples at freq Hz (Goertzel), per sample.
func power(samples []int16, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - c*s1*s2) / float64(len(samples)*len(samples))
}

// realsense-sender -viewers 2: two viewers watch at once, each talking
// at its own pitch, and the robot's one speaker plays both.
func TestSeveralViewersTalkIntoOneSpeaker(t *testing.T) {
	srv, err := pulsetest.Start(pulsetest.Config{})
	if errors.Is(err, pulsetest.ErrUnavailable) && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	require.NoError(t, err)
	defer srv.Close()
	const rate = 48000
	rec, err := srv.Record(pulsetest.Monitor(pulsetest.SpeakerSink), rate, 1)
	require.NoError(t, err)
	defer rec.Close()

	url := rtctest.WS(rtctest.SignalServer(t, nil))
	p := startEnv(t, srv.Env(), "-signal", url, "-room", "yard", "-camera", "testpattern", "-size", "320x240",
		"-loopback", "-mic", "none", "-viewers", "2")
	rtctest.Eventually(t, 30*time.Second, func() bool { return strings.Contains(p.logs.String(), "serving several viewers") },
		"the robot never served several viewers; its log:\n%s", p.logs)

	tones := []float64{440, 1000}
	var videos []*rtctest.VideoCollector
	for _, f := range tones {
		v := rtctest.NewVideoCollector()
		s, err := rtclink.New(rtclink.Config{Signaler: rtctest.Dial(t, url, "yard"), Audio: rtctest.AudioSender(t, f, rate),
			ReceiveVideo: rtctest.VideoReceiver(v), IncludeLoopback: true, Logger: rtctest.Logger()})
		require.NoError(t, err)
		defer s.Close()
		videos = append(videos, v)
	}
	rtctest.Eventually(t, 60*time.Second, func() bool {
		for _, v := range videos {
			if n, _, _, _ := v.Count(); n < 30 {
				return false
			}
		}
		return true
	}, "both viewers should see the robot; its log:\n%s", p.logs)

	// A second of what the speaker plays once both talk.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, rec.WaitFrames(ctx, rec.Frames()+rate))
	require.NoError(t, rec.WaitFrames(ctx, rec.Frames()+rate))
	got := rec.Samples()
	got = got[len(got)-rate:]
	quiet := power(got, rate, 700)
	for _, f := range tones {
		pw := power(got, rate, f)
		t.Logf("%g Hz: %.0f against %.0f at 700 Hz", f, pw, quiet)
		assert.Greater(t, pw, 100*quiet, "the speaker does not play the viewer talking at %g Hz", f)
	}

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	code, _ := p.wait(t)
	assert.Zero(t, code, "exit code after SIGTERM; log:\n%s", p.logs)
}

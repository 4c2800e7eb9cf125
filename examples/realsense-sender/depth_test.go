package main

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/rtctest"
	"github.com/avlink/avlink/rtclink"
)

// depthFrames keeps the newest decoded frame of the depth track.
type depthFrames struct {
	mu   sync.Mutex
	n    int
	last capture.VideoFrame
}

func (d *depthFrames) WriteVideo(f *capture.VideoFrame) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	d.last = *f
	d.last.Data = append([]byte(nil), f.Data...)
	return nil
}

func (d *depthFrames) Close() error { return nil }

// -depth testpattern sends the colourised depth scene as a second track
// named "depth" beside the colour camera: a viewer that asks for it gets
// a coloured picture (chroma far from grey), not the colour camera's
// test pattern.
func TestDepthTrack(t *testing.T) {
	url := rtctest.WS(rtctest.SignalServer(t, nil))
	frames := &depthFrames{}
	recv := rtctest.VideoReceiver(frames)
	recv.Track = "depth"
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: rtctest.Dial(t, url, "robot"), ReceiveVideo: recv, IncludeLoopback: true, Logger: rtctest.Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer viewer.Close()

	p := start(t, "-signal", url, "-room", "robot", "-camera", "testpattern", "-size", "320x240", "-depth", "testpattern",
		"-loopback", "-mic", "none", "-speaker", "none")
	rtctest.Eventually(t, 60*time.Second, func() bool {
		frames.mu.Lock()
		defer frames.mu.Unlock()
		return frames.n >= 30
	}, "fewer than 30 depth frames decoded; the program's log:\n%s", p.logs)
	if !strings.Contains(p.logs.String(), "depth: sending the synthetic depth scene") {
		t.Errorf("the log does not say it sends the depth scene:\n%s", p.logs)
	}
	frames.mu.Lock()
	f := frames.last
	frames.mu.Unlock()
	if f.Width != 640 || f.Height != 480 {
		t.Fatalf("depth track %dx%d, want the depth scene's 640x480 (the colour camera is 320x240)", f.Width, f.Height)
	}
	// The colour map puts near things in red and far ones in blue: the
	// chroma planes spread far from 128, as no grey picture does.
	chroma := f.Data[f.Width*f.Height:]
	lo, hi := 255, 0
	for _, c := range chroma {
		lo, hi = min(lo, int(c)), max(hi, int(c))
	}
	if hi-lo < 80 {
		t.Errorf("depth picture chroma spans %d..%d: not colourised", lo, hi)
	}
}

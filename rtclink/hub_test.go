package rtclink_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/synth"
	capvp8 "github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hubEvents records a Hub's OnViewer calls.
type hubEvents struct {
	mu    sync.Mutex
	made  []string
	ended []string
}

func (e *hubEvents) on(viewer string, s *rtclink.PeerSession) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s != nil {
		e.made = append(e.made, viewer)
	} else {
		e.ended = append(e.ended, viewer)
	}
}

func (e *hubEvents) counts() (made, ended int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.made), len(e.ended)
}

func startHub(t *testing.T, url, room string, maxViewers int, ev *hubEvents) *rtclink.Hub {
	t.Helper()
	h, err := rtclink.NewHub(rtclink.HubConfig{
		Signaler: dial(t, url, room), MaxViewers: maxViewers, Logger: testLogger(), OnViewer: ev.on,
		NewSession: func(string) (rtclink.Config, error) {
			return rtclink.Config{Video: videoSender(t, 160, 120), Logger: testLogger()}, nil
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// startViewer starts a viewer; closing what it returns ends the viewer's
// session and leaves the room, as a page closed does.
func startViewer(t *testing.T, url, room string) (io.Closer, *videoCollector) {
	t.Helper()
	video := newVideoCollector()
	sig := dial(t, url, room)
	v, err := rtclink.New(rtclink.Config{Signaler: sig, ReceiveVideo: videoReceiver(video), Logger: testLogger()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = v.Close() })
	return closerFunc(func() error { return errors.Join(v.Close(), sig.Close()) }), video
}

// nextOf reads sig until a message of one of types comes, and returns it.
func nextOf(ctx context.Context, t *testing.T, sig signal.Signaler, types ...string) signal.Message {
	t.Helper()
	for {
		m, err := sig.Recv(ctx)
		require.NoError(t, err, "no message of types %v", types)
		if slices.Contains(types, m.Type) {
			return m
		}
	}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// One robot, three viewers: a viewer in the room before the robot and
// two after it are each called on their own peer connection, and each
// decodes the robot's video.
func TestHubServesSeveralViewers(t *testing.T) {
	url := signalServer(t)
	_, first := startViewer(t, url, "h")
	var ev hubEvents
	hub := startHub(t, url, "h", 0, &ev)
	_, second := startViewer(t, url, "h")
	_, third := startViewer(t, url, "h")
	for _, v := range []*videoCollector{first, second, third} {
		v.waitFirst(t)
		frames, _, _ := v.count()
		eventually(t, 10*time.Second, func() bool { f, _, _ := v.count(); return f > frames+10 }, "a viewer's video stalled")
	}
	assert.Len(t, hub.Viewers(), 3)
	made, _ := ev.counts()
	assert.Equal(t, 3, made)
	for _, id := range hub.Viewers() {
		s := hub.Session(id)
		require.NotNil(t, s)
		assert.Equal(t, rtclink.StateConnected, s.Stats().State, "viewer %s", id)
	}
}

// With MaxViewers reached, a newcomer hears why it is not called; when a
// viewer leaves, its session ends and the newcomer is called.
func TestHubViewerLimit(t *testing.T) {
	url := signalServer(t)
	var ev hubEvents
	hub := startHub(t, url, "l", 1, &ev)
	first, video := startViewer(t, url, "l")
	video.waitFirst(t)

	waiting := dial(t, url, "l")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	refusal := nextOf(ctx, t, waiting, signal.TypeError, signal.TypeOffer)
	require.Equal(t, signal.TypeError, refusal.Type, "called beyond the limit")
	assert.Equal(t, signal.CodeViewersFull, refusal.Code)
	assert.Contains(t, refusal.Reason, "1 viewers at most")
	assert.Len(t, hub.Viewers(), 1)

	require.NoError(t, first.Close())
	eventually(t, 10*time.Second, func() bool { _, ended := ev.counts(); return ended == 1 }, "the first viewer's session did not end")
	nextOf(ctx, t, waiting, signal.TypeOffer)
	eventually(t, 5*time.Second, func() bool { return len(hub.Viewers()) == 1 }, "the waiting viewer is not served")
}

func TestHubConfigErrors(t *testing.T) {
	_, err := rtclink.NewHub(rtclink.HubConfig{})
	assert.ErrorIs(t, err, rtclink.ErrConfig)
	url := signalServer(t)
	_, err = rtclink.NewHub(rtclink.HubConfig{Signaler: dial(t, url, "e"), MaxViewers: -1,
		NewSession: func(string) (rtclink.Config, error) { return rtclink.Config{}, nil }})
	assert.ErrorIs(t, err, rtclink.ErrConfig)
}

// Close ends every viewer's session, and the Hub says it was closed.
func TestHubClose(t *testing.T) {
	url := signalServer(t)
	var ev hubEvents
	hub := startHub(t, url, "c", 0, &ev)
	_, video := startViewer(t, url, "c")
	video.waitFirst(t)
	require.NoError(t, hub.Close())
	_, ended := ev.counts()
	assert.Equal(t, 1, ended)
	assert.ErrorIs(t, hub.Err(), rtclink.ErrClosed)
	select {
	case <-hub.Done():
	default:
		t.Fatal("Done not closed")
	}
	assert.Empty(t, hub.Viewers())
}

// closeCounter is a real source that counts its Close calls.
type closeCounter struct {
	capture.VideoSource
	closes atomic.Int32
}

func (c *closeCounter) Close() error { c.closes.Add(1); return c.VideoSource.Close() }

// Two viewers of one camera, shared: each decodes it; the first leaving
// does not close the camera or stall the second; the Hub's end closes it,
// once.
func TestHubSharedCamera(t *testing.T) {
	url := signalServer(t)
	pattern, err := synth.NewPattern(synth.PatternConfig{Width: 160, Height: 120})
	require.NoError(t, err)
	cam := &closeCounter{VideoSource: pattern}
	shared := capture.ShareVideo(cam)
	hub, err := rtclink.NewHub(rtclink.HubConfig{
		Signaler: dial(t, url, "s"), Logger: testLogger(),
		NewSession: func(string) (rtclink.Config, error) {
			r, err := shared.NewReader()
			if err != nil {
				return rtclink.Config{}, err
			}
			enc, err := capvp8.NewEncoder(capvp8.EncoderConfig{})
			if err != nil {
				return rtclink.Config{}, errors.Join(err, r.Close())
			}
			return rtclink.Config{Video: &rtclink.VideoSender{Source: r, Encoder: enc}}, nil
		},
	})
	require.NoError(t, err)
	defer hub.Close()

	first, v1 := startViewer(t, url, "s")
	_, v2 := startViewer(t, url, "s")
	v1.waitFirst(t)
	v2.waitFirst(t)
	require.NoError(t, first.Close())
	eventually(t, 10*time.Second, func() bool { return len(hub.Viewers()) == 1 }, "the first viewer's session did not end")
	frames, _, _ := v2.count()
	eventually(t, 10*time.Second, func() bool { f, _, _ := v2.count(); return f > frames+30 }, "the second viewer's video stalled")
	assert.Zero(t, cam.closes.Load(), "the camera closed while a viewer still watches")

	require.NoError(t, hub.Close())
	assert.Equal(t, int32(1), cam.closes.Load(), "the camera closed with the last viewer")
}

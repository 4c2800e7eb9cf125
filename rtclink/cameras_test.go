package rtclink_test

import (
	"context"
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A robot sends several cameras, each on its own named track; a viewer
// takes the one it names, and a camera added mid-call goes out too.
func TestSeveralCameras(t *testing.T) {
	url := signalServer(t)
	front, wrist := videoSender(t, 320, 240), videoSender(t, 160, 120)
	front.Name, wrist.Name = "front", "wrist"
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), Role: rtclink.Offerer, IncludeLoopback: true, Logger: testLogger(),
		Video: front, MoreVideo: []*rtclink.VideoSender{wrist},
	})
	require.NoError(t, err)
	defer robot.Close()
	video := newVideoCollector()
	recv := videoReceiver(video)
	recv.Track = "wrist"
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), IncludeLoopback: true, Logger: testLogger(), ReceiveVideo: recv,
	})
	require.NoError(t, err)
	defer viewer.Close()

	video.waitFirst(t)
	eventually(t, 10*time.Second, func() bool { n, _, _ := video.count(); return n >= 10 }, "too few frames of the wrist camera")
	_, _, width := video.count()
	assert.Equal(t, 160, width, "the viewer takes the track it names")

	st := robot.Stats().VideoOut
	require.Len(t, st.Tracks, 2)
	assert.Equal(t, "front", st.Tracks[0].Name)
	assert.Equal(t, "wrist", st.Tracks[1].Name)
	for _, tr := range st.Tracks {
		assert.Positive(t, tr.FramesSent, "track %s sends", tr.Name)
	}
	assert.Equal(t, st.Tracks[0].FramesSent+st.Tracks[1].FramesSent, st.FramesSent, "the totals add the tracks up")

	// A name in use is refused; a new camera joins the call.
	dup := videoSender(t, 160, 120)
	dup.Name = "wrist"
	assert.ErrorIs(t, robot.AddVideo(dup), rtclink.ErrConfig)
	require.NoError(t, dup.Source.Close())
	require.NoError(t, dup.Encoder.Close())
	depth := videoSender(t, 160, 120)
	depth.Name = "depth"
	require.NoError(t, robot.AddVideo(depth))
	eventually(t, 15*time.Second, func() bool {
		tr := robot.Stats().VideoOut.Tracks
		return len(tr) == 3 && tr[2].Name == "depth" && tr[2].FramesSent > 5
	}, "the camera added mid-call does not send")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, viewer.WaitConnected(ctx))
}

func TestSeveralCamerasConfigErrors(t *testing.T) {
	url := signalServer(t)
	a, b := videoSender(t, 160, 120), videoSender(t, 160, 120)
	defer func() {
		for _, v := range []*rtclink.VideoSender{a, b} {
			v.Source.Close()
			v.Encoder.Close()
		}
	}()
	for name, cfg := range map[string]rtclink.Config{
		"same name":       {Video: a, MoreVideo: []*rtclink.VideoSender{b}},
		"no Video":        {MoreVideo: []*rtclink.VideoSender{b}},
		"nil in the list": {Video: a, MoreVideo: []*rtclink.VideoSender{nil}},
	} {
		cfg.Signaler = dial(t, url, "bad")
		_, err := rtclink.New(cfg)
		assert.ErrorIs(t, err, rtclink.ErrConfig, name)
	}
}

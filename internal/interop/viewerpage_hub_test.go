package interop

import (
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/viewer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A robot that serves one viewer at a time through a Hub: the page that
// comes second says why it is not called, and is called, and shows the
// video, once the first viewer leaves.
func TestViewerPageHubFull(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	hub, err := rtclink.NewHub(rtclink.HubConfig{
		Signaler: dial(t, wsURL(srv.base()), "realsense"), MaxViewers: 1, Logger: testLogger(),
		NewSession: func(string) (rtclink.Config, error) {
			return rtclink.Config{Video: videoSender(t, 320, 240), IncludeLoopback: true}, nil
		},
	})
	require.NoError(t, err)
	defer hub.Close()

	firstSig := dial(t, wsURL(srv.base()), "realsense")
	first, err := rtclink.New(rtclink.Config{Signaler: firstSig, IncludeLoopback: true, Logger: testLogger()})
	require.NoError(t, err)
	defer first.Close()
	require.NoError(t, first.WaitConnected(t.Context()))

	b := openBrowser(t, srv.base()+"/?room=realsense")
	st := b.waitState(20*time.Second, "why it is not called", func(s viewerState) bool { return s.Message != "" })
	assert.Contains(t, st.Message, "serving as many viewers as it can")
	assert.Contains(t, st.Message, "1 viewers at most")
	assert.Zero(t, st.Offers, "called beyond the robot's limit")

	require.NoError(t, first.Close())
	require.NoError(t, firstSig.Close())
	b.live(30 * time.Second)
	st = b.waitState(10*time.Second, "the robot's picture size", func(s viewerState) bool { return s.FrameWidth > 0 })
	assert.Equal(t, 320, st.FrameWidth)
	assert.Empty(t, st.Message, "the message stays after the call came")
}

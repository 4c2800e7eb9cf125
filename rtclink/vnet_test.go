package rtclink_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/pionlog"
	"github.com/avlink/avlink/rtclink"
	"github.com/pion/transport/v5/vnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vnetPair is two hosts on one simulated LAN whose link can be cut.
type vnetPair struct {
	a, b *vnet.Net
	cut  atomic.Bool
	drop func() bool // set before use: drops a packet when true
	// filter, set before use, decides each packet's fate when drop is
	// nil: false drops it.
	filter func(vnet.Chunk) bool
}

func newVnetPair(t *testing.T) *vnetPair {
	t.Helper()
	p := &vnetPair{}
	r, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", LoggerFactory: pionlog.Factory{Logger: testLogger()}})
	require.NoError(t, err)
	p.a, err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.0.0.1"}})
	require.NoError(t, err)
	p.b, err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.0.0.2"}})
	require.NoError(t, err)
	require.NoError(t, r.AddNet(p.a))
	require.NoError(t, r.AddNet(p.b))
	r.AddChunkFilter(func(c vnet.Chunk) bool {
		switch {
		case p.cut.Load():
			return false
		case p.drop != nil:
			return !p.drop()
		case p.filter != nil:
			return p.filter(c)
		}
		return true
	})
	require.NoError(t, r.Start())
	t.Cleanup(func() { _ = r.Stop() })
	return p
}

// When the path dies for longer than the grace period the offerer
// restarts ICE by itself, and media flows again once the path is back.
func TestICERestartAfterCut(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for ICE timeouts")
	}
	net := newVnetPair(t)
	url := signalServer(t)
	video := newVideoCollector()
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), ReceiveVideo: videoReceiver(video), Net: net.b, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer viewer.Close()
	var states []string
	var statesMu atomic.Value
	statesMu.Store([]string(nil))
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: videoSender(t, 160, 120),
		Net: net.a, DisconnectedGrace: 500 * time.Millisecond, Logger: testLogger(),
		OnState: func(s rtclink.State) {
			states = append(states, s.String())
			statesMu.Store(append([]string(nil), states...))
		},
	})
	require.NoError(t, err)
	defer robot.Close()
	video.waitFirst(t)

	net.cut.Store(true)
	eventually(t, 30*time.Second, func() bool { return robot.Stats().Transport.ICERestarts > 0 }, "no ICE restart while cut (states %v)", statesMu.Load())
	net.cut.Store(false)
	before, _, _ := video.count()
	eventually(t, 30*time.Second, func() bool { f, _, _ := video.count(); return f > before+30 }, "video did not come back (states %v)", statesMu.Load())
	assert.Equal(t, rtclink.StateConnected, robot.Stats().State)
	assert.Contains(t, statesMu.Load(), "disconnected")
}

// On a lossy path the receiver asks for retransmissions and the sender
// answers them, so nearly every frame still decodes.
func TestNACKRecoversLoss(t *testing.T) {
	net := newVnetPair(t)
	var n atomic.Int64
	net.drop = func() bool { return n.Add(1)%33 == 0 } // 3% of packets, both ways
	url := signalServer(t)
	video := newVideoCollector()
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), ReceiveVideo: videoReceiver(video), Net: net.b, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer viewer.Close()
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: videoSender(t, 640, 480),
		Net: net.a, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer robot.Close()
	video.waitFirst(t)

	sent, frames := framesOver(t, robot, video, 90)
	st := robot.Stats()
	assert.Positive(t, st.VideoOut.NACKsReceived, "the viewer asked for retransmissions")
	vs := viewer.Stats()
	assert.Less(t, float64(vs.VideoIn.PacketsLost), 0.01*float64(vs.VideoIn.PacketsReceived), "retransmissions filled the gaps")
	assert.GreaterOrEqual(t, float64(frames), 0.9*float64(sent), "decoded %d of %d frames over 3%% loss", frames, sent)
}

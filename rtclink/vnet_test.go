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
	r.AddChunkFilter(func(vnet.Chunk) bool { return !p.cut.Load() })
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
	eventually(t, 30*time.Second, func() bool { return robot.Stats().ICERestarts > 0 }, "no ICE restart while cut (states %v)", statesMu.Load())
	net.cut.Store(false)
	before, _, _ := video.count()
	eventually(t, 30*time.Second, func() bool { f, _, _ := video.count(); return f > before+30 }, "video did not come back (states %v)", statesMu.Load())
	assert.Equal(t, "connected", robot.Stats().State)
	assert.Contains(t, statesMu.Load(), "disconnected")
}

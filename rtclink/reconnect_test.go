package rtclink_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/wsclient"
	"github.com/avlink/avlink/signal/wsserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// restartableSignal is a signaling server that can be stopped and started
// again on the same address.
type restartableSignal struct {
	t    *testing.T
	addr string
	srv  *wsserver.Server
	hs   *http.Server
}

func (r *restartableSignal) start(ln net.Listener) {
	srv, err := wsserver.New(wsserver.Config{Logger: testLogger()})
	require.NoError(r.t, err)
	r.srv, r.hs = srv, &http.Server{Handler: srv}
	go r.hs.Serve(ln)
}

func (r *restartableSignal) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.hs.Close()
	r.srv.Shutdown(ctx)
}

// When the signaling connection drops and comes back, the offerer
// restarts ICE (its network may have changed), and media keeps flowing.
func TestSignalingReconnectRestartsICE(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &restartableSignal{t: t, addr: ln.Addr().String()}
	r.start(ln)
	t.Cleanup(r.stop)
	url := "ws://" + r.addr

	opts := &wsclient.DialOptions{Logger: testLogger(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	ctx := context.Background()
	vsig, err := wsclient.Dial(ctx, url, "r", opts)
	require.NoError(t, err)
	defer vsig.Close()
	rsig, err := wsclient.Dial(ctx, url, "r", opts)
	require.NoError(t, err)
	defer rsig.Close()

	video := newVideoCollector()
	viewer, err := rtclink.New(rtclink.Config{Signaler: vsig, ReceiveVideo: videoReceiver(video), IncludeLoopback: true, Logger: testLogger()})
	require.NoError(t, err)
	defer viewer.Close()
	robot, err := rtclink.New(rtclink.Config{
		Signaler: rsig, Role: rtclink.Offerer, Video: videoSender(t, 160, 120), IncludeLoopback: true, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer robot.Close()
	video.waitFirst(t)

	r.stop()
	var ln2 net.Listener
	for range 100 {
		if ln2, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, err)
	r.start(ln2)

	eventually(t, 20*time.Second, func() bool { return robot.Stats().Transport.ICERestarts > 0 }, "no ICE restart after the signaling reconnect")
	frames, _, _ := video.count()
	eventually(t, 20*time.Second, func() bool { f, _, _ := video.count(); return f > frames+30 }, "video stopped after the restart")
	assert.Equal(t, rtclink.StateConnected, robot.Stats().State)
}

package rtclink_test

import (
	"testing"
	"time"

	"github.com/avlink/avlink/internal/turntest"
	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two relay-only sessions exchange video through a TURN server: the
// project's own turnsrv, and the original deployment's coturn server.
func TestRelayOnlySessions(t *testing.T) {
	servers := map[string]func(t *testing.T) []rtclink.ICEServer{
		"turnsrv": func(t *testing.T) []rtclink.ICEServer { return turntest.Start(t, nil).ICEServers() },
		"coturn":  func(t *testing.T) []rtclink.ICEServer { return turntest.StartCoturn(t).ICEServers() },
	}
	for name, start := range servers {
		t.Run(name, func(t *testing.T) {
			ice := start(t)
			url := signalServer(t)
			video := newVideoCollector()
			viewer, err := rtclink.New(rtclink.Config{
				Signaler: dial(t, url, "r"), ReceiveVideo: videoReceiver(video),
				ICEServers: ice, RelayOnly: true, Logger: testLogger(),
			})
			require.NoError(t, err)
			defer viewer.Close()
			start := time.Now()
			robot, err := rtclink.New(rtclink.Config{
				Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: videoSender(t, 320, 240),
				ICEServers: ice, RelayOnly: true, Logger: testLogger(),
			})
			require.NoError(t, err)
			defer robot.Close()

			video.waitFirst(t)
			t.Logf("%s: robot start → first decoded frame through the relay in %v", name, time.Since(start).Round(time.Millisecond))
			frames, _, _ := video.count()
			eventually(t, 10*time.Second, func() bool { f, _, _ := video.count(); return f > frames+30 }, "video stalled")
			for who, s := range map[string]*rtclink.PeerSession{"robot": robot, "viewer": viewer} {
				st := s.Stats()
				assert.Equal(t, "relay", st.Transport.LocalCandidate, "%s's local candidate", who)
				assert.Equal(t, "relay", st.Transport.RemoteCandidate, "%s's remote candidate", who)
			}
		})
	}
}

package rtclink_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/blackhole"
	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/require"
)

// A session whose TURN server sits behind a firewall that drops TCP
// silently closes at once, and its dial gives up by itself: pion's own
// dial would hold gathering, and Close, for the system's SYN retries.
func TestTURNOverTCPDialBounded(t *testing.T) {
	port := blackhole.TCP(t)
	url := signalServer(t)
	turn := []rtclink.ICEServer{{URLs: []string{fmt.Sprintf("turn:127.0.0.1:%d?transport=tcp", port)}, Username: "u", Credential: "p"}}
	viewer, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), IncludeLoopback: true, Logger: testLogger()})
	require.NoError(t, err)
	defer viewer.Close()

	// Alone in a room for long enough that the dial has given up: the
	// session then connects to nobody, and closes.
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), Role: rtclink.Offerer, DataChannels: true,
		ICEServers: turn, RelayOnly: true, Logger: testLogger(),
	})
	require.NoError(t, err)
	time.Sleep(500 * time.Millisecond) // gathering has started its dial
	closed := make(chan struct{})
	go func() { robot.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close held by a TURN-over-TCP dial that never completes")
	}
}

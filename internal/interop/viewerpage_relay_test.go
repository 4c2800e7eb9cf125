package interop

import (
	"strings"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/turntest"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/viewer"
	"github.com/avlink/avlink/turnsrv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const turnSecret = "relay-secret"

// relayServer starts turnsrv with coturn-REST credentials only (no
// static user), on UDP.
func relayServer(t *testing.T) (turnURL string) {
	t.Helper()
	s := turntest.Start(t, func(c *turnsrv.Config) {
		c.Users = nil
		c.AuthSecrets = []string{turnSecret}
		c.NoTCP = true
	})
	return "turn:" + s.Addrs().UDP[0].String() + "?transport=udp"
}

// Relay only: the page and our robot both take their ICE servers from
// /ice-servers, where the signaling server mints coturn-REST credentials
// for turnsrv's shared secret, and both may use relayed candidates only.
// The call connects through the relay and the page says so.
func TestViewerPageRelayOnly(t *testing.T) {
	chromiumPath(t)
	url := relayServer(t)
	srv := startPageServer(t, viewer.Config{TURNSecret: turnSecret, TURNURLs: []string{url}, TURNTTL: time.Hour})
	ice := srv.iceServers(t)
	require.Len(t, ice, 1)
	assert.Equal(t, []string{url}, ice[0].URLs)
	assert.NotEmpty(t, ice[0].Username)
	robot := goRobot(t, srv, func(c *rtclink.Config) { c.ICEServers, c.RelayOnly = ice, true })

	b := openBrowser(t, srv.base()+"/?room=realsense&relay=1")
	b.live(30 * time.Second)
	st := b.waitState(10*time.Second, "the selected pair", func(s viewerState) bool { return s.Pair != nil })
	t.Logf("page pair %+v; robot pair %s/%s", *st.Pair, robot.Stats().Transport.LocalCandidate, robot.Stats().Transport.RemoteCandidate)
	assert.True(t, st.Pair.Relayed)
	assert.Equal(t, "relay", st.Pair.Local)
	assert.Equal(t, "relay", st.Pair.Remote, "the robot is relay only too")
	assert.True(t, strings.HasPrefix(b.text("s-path"), "relayed (relay ↔ relay"), "the page shows %q", b.text("s-path"))
	assert.Equal(t, "relay", robot.Stats().Transport.LocalCandidate)
	b.framesGrow(20*time.Second, 30)
	assert.Empty(t, b.state().Message)
}

// Relay only with a credential the TURN server refuses — minted from
// another secret, or expired — fails with a message on the page that says
// why, not a spinner.
func TestViewerPageRelayRefused(t *testing.T) {
	chromiumPath(t)
	url := relayServer(t)
	for _, tc := range []struct {
		name string
		cfg  viewer.Config
	}{
		{"wrong secret", viewer.Config{TURNSecret: "not-" + turnSecret, TURNURLs: []string{url}}},
		{"expired", viewer.Config{TURNSecret: turnSecret, TURNURLs: []string{url}, TURNTTL: time.Hour,
			Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startPageServer(t, tc.cfg)
			// The robot is not relay only: the page alone must fail.
			goRobot(t, srv, nil)
			b := openBrowser(t, srv.base()+"/?room=realsense&relay=1")
			st := b.waitState(30*time.Second, "a refusal", func(s viewerState) bool { return s.FailedRelay && s.Message != "" })
			t.Logf("page: %q; ICE errors %+v", st.Message, st.ICEErrors)
			assert.Equal(t, "error", st.MessageKind)
			assert.Contains(t, st.Message, "refused the relay credentials")
			assert.True(t, b.visible("message"), "the message is shown")
			assert.Contains(t, b.text("message"), "wrong or expired")
			assert.Equal(t, "relay refused", b.text("pill"))
			assert.False(t, b.visible("spinner"), "no spinner once it has failed")
			assert.NotEqual(t, "connected", st.Connection)
		})
	}
}

package turnsrv_test

import (
	"context"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/turntest"
	"github.com/avlink/avlink/turnsrv"
)

// TestWebRTCRelayOnlyThroughTurnsrv connects two pion/webrtc peers that
// may only use relay candidates through turnsrv.
func TestWebRTCRelayOnlyThroughTurnsrv(t *testing.T) {
	s := turntest.Start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	turntest.ConnectRelayOnly(ctx, t, s.ICEServers())
}

// TestWebRTCRelayOnlyRESTCredentials does the same with short-lived TURN
// REST credentials, as a signaling server would hand them to browsers.
func TestWebRTCRelayOnlyRESTCredentials(t *testing.T) {
	const secret = "shared-with-signaling"
	s := turntest.Start(t, func(c *turnsrv.Config) { c.AuthSecrets = []string{secret} })
	user, pass := turnsrv.RESTCredentials(secret, "viewer", 10*time.Minute, time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	turntest.ConnectRelayOnly(ctx, t, turntest.UDPICEServers(s.Addrs().UDP[0], user, pass))
}

// TestWebRTCRelayOnlyThroughCoturn connects the same peers through a real
// coturn started with the settings of the original deployment's coturn
// server (see turntest.CoturnArgs).
func TestWebRTCRelayOnlyThroughCoturn(t *testing.T) {
	c := turntest.StartCoturn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	turntest.ConnectRelayOnly(ctx, t, c.ICEServers())
}

package rtclink_test

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/pionlog"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/turnsrv"
	"github.com/pion/transport/v5/vnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// natNet is two private networks, each behind its own NAT, and a public
// network between them where a STUN/TURN server (turnsrv) runs.
type natNet struct {
	a, b *vnet.Net // the peers' hosts, 192.168.1.2 and 10.2.0.2
	ice  []rtclink.ICEServer
}

const (
	turnIP   = "203.0.113.10"
	turnUser = "robot"
	turnPass = "s3cret"
)

// Port-restricted cone: one public port per private socket, whoever it
// talks to, and inbound only from addresses it has sent to. Symmetric: a
// new public port for every destination.
var (
	coneNAT      = &vnet.NATType{Mode: vnet.NATModeNormal, MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointAddrPortDependent, MappingLifeTime: 30 * time.Second}
	symmetricNAT = &vnet.NATType{Mode: vnet.NATModeNormal, MappingBehavior: vnet.EndpointAddrPortDependent, FilteringBehavior: vnet.EndpointAddrPortDependent, MappingLifeTime: 30 * time.Second}
)

func newNATNet(t *testing.T, natA, natB *vnet.NATType, withTURN bool) *natNet {
	t.Helper()
	lf := pionlog.Factory{Logger: testLogger()}
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "0.0.0.0/0", LoggerFactory: lf})
	require.NoError(t, err)
	pub, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{turnIP}})
	require.NoError(t, err)
	require.NoError(t, wan.AddNet(pub))
	lan := func(public, cidr, host string, nat *vnet.NATType) *vnet.Net {
		r, err := vnet.NewRouter(&vnet.RouterConfig{StaticIPs: []string{public}, CIDR: cidr, NATType: nat, LoggerFactory: lf})
		require.NoError(t, err)
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{host}})
		require.NoError(t, err)
		require.NoError(t, r.AddNet(n))
		require.NoError(t, wan.AddRouter(r))
		return n
	}
	nn := &natNet{
		a: lan("198.51.100.1", "192.168.1.0/24", "192.168.1.2", natA),
		b: lan("198.51.100.2", "10.2.0.0/24", "10.2.0.2", natB),
	}
	require.NoError(t, wan.Start())
	t.Cleanup(func() { _ = wan.Stop() })

	srv, err := turnsrv.New(turnsrv.Config{
		ListeningIPs: []netip.Addr{netip.MustParseAddr(turnIP)},
		Realm:        "avlink.test",
		Users:        map[string]string{turnUser: turnPass},
		// The peers' public addresses are in a documentation range the
		// server would refuse as private by default.
		AllowedPeers: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix(turnIP + "/32")},
		Net:          pub,
		NoTCP:        true,
		NoTLS:        true,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	nn.ice = []rtclink.ICEServer{{URLs: []string{"stun:" + turnIP + ":3478"}}}
	if withTURN {
		nn.ice = append(nn.ice, rtclink.ICEServer{URLs: []string{"turn:" + turnIP + ":3478?transport=udp"}, Username: turnUser, Credential: turnPass})
	}
	return nn
}

// call connects a robot in network a with a viewer in network b and
// returns both, once the viewer decodes video.
func (nn *natNet) call(t *testing.T) (robot, viewer *rtclink.PeerSession, setup time.Duration) {
	t.Helper()
	url := signalServer(t)
	video := newVideoCollector()
	var err error
	viewer, err = rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), ReceiveVideo: videoReceiver(video), ICEServers: nn.ice, Net: nn.b, Logger: testLogger()})
	require.NoError(t, err)
	t.Cleanup(func() { viewer.Close() })
	start := time.Now()
	robot, err = rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: videoSender(t, 320, 240), ICEServers: nn.ice, Net: nn.a, Logger: testLogger()})
	require.NoError(t, err)
	t.Cleanup(func() { robot.Close() })
	video.waitFirst(t)
	setup = time.Since(start)
	frames, _, _ := video.count()
	eventually(t, 10*time.Second, func() bool { f, _, _ := video.count(); return f > frames+20 }, "video stalled")
	return robot, viewer, setup
}

// Two peers behind NATs on the public internet: direct when both NATs keep
// one public port per socket, through TURN when either gives a new port
// for every destination, with no change of configuration.
func TestNATMatrix(t *testing.T) {
	for _, c := range []struct {
		name       string
		natA, natB *vnet.NATType
		relayed    bool
	}{
		{"cone/cone", coneNAT, coneNAT, false},
		{"cone/symmetric", coneNAT, symmetricNAT, true},
		{"symmetric/cone", symmetricNAT, coneNAT, true},
		{"symmetric/symmetric", symmetricNAT, symmetricNAT, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			robot, viewer, setup := newNATNet(t, c.natA, c.natB, true).call(t)
			rs, vs := robot.Stats().Transport, viewer.Stats().Transport
			t.Logf("%s: robot %s/%s, viewer %s/%s; robot start → first decoded frame %v",
				c.name, rs.LocalCandidate, rs.RemoteCandidate, vs.LocalCandidate, vs.RemoteCandidate, setup.Round(time.Millisecond))
			relayed := rs.LocalCandidate == "relay" || rs.RemoteCandidate == "relay"
			assert.Equal(t, c.relayed, relayed, "robot's pair %s/%s", rs.LocalCandidate, rs.RemoteCandidate)
			if !c.relayed {
				// The far end is seen at its NAT's public mapping, never at
				// its private address.
				assert.Contains(t, []string{"srflx", "prflx"}, rs.RemoteCandidate, "robot's remote candidate")
				assert.Contains(t, []string{"srflx", "prflx"}, vs.RemoteCandidate, "viewer's remote candidate")
			}
		})
	}
}

// Without a TURN server two symmetric NATs leave no path: the session
// says so, with what to do, instead of waiting in silence.
func TestNoPathSaysWhy(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for ICE to fail")
	}
	nn := newNATNet(t, symmetricNAT, symmetricNAT, false)
	url := signalServer(t)
	viewer, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), ReceiveVideo: videoReceiver(newVideoCollector()), ICEServers: nn.ice, Net: nn.b, Logger: testLogger()})
	require.NoError(t, err)
	defer viewer.Close()
	robot, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: videoSender(t, 160, 120), ICEServers: nn.ice, Net: nn.a, Logger: testLogger()})
	require.NoError(t, err)
	defer robot.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = robot.WaitConnected(ctx)
	require.ErrorIs(t, err, rtclink.ErrNoPath, "within 30 s")
	assert.Contains(t, err.Error(), "TURN")
}

//go:build linux

package turnsrv

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// TestDataPlaneRelaysChannelData drives a channel by hand: the data plane
// must relay the client's ChannelData to the peer and the peer's reply
// back as padded ChannelData, pass what it does not know to pion, and
// forget the channel when the allocation ends.
func TestDataPlaneRelaysChannelData(t *testing.T) {
	s, _ := startServer(t, func(c *Config) { c.AllowLoopbackPeers = true; c.UDPReaders = 1 })
	if s.dp == nil {
		t.Fatal("no data plane on Linux")
	}
	server := s.Addrs().UDP[0]
	peer := udpPeer(t)
	r, res := boundSession(t, s, peer)
	client, _ := addrPort(r.conn.LocalAddr())
	local, _ := addrPort(server)
	if _, ok := s.fast.toPeer(client, local, 0x4001); !ok {
		t.Fatal("the bound channel is not in the data plane's table")
	}

	// Client to peer; padding after the data is allowed and not relayed.
	if _, err := r.conn.WriteTo([]byte{0x40, 0x01, 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 0, 0}, server); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil {
		t.Fatalf("peer read: %v", err)
	}
	if string(buf[:n]) != "hello" || from.String() != res.relay.String() {
		t.Fatalf("peer got %q from %s, want \"hello\" from %s", buf[:n], from, res.relay)
	}

	// Peer to client: ChannelData on the same channel, padded to 4 bytes.
	if _, err := peer.WriteTo([]byte("world"), from); err != nil {
		t.Fatal(err)
	}
	_ = r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err = r.conn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("client read: %v", err)
	}
	want := []byte{0x40, 0x01, 0, 5, 'w', 'o', 'r', 'l', 'd', 0, 0, 0}
	if !bytes.Equal(buf[:n], want) {
		t.Fatalf("client got % x, want % x", buf[:n], want)
	}
	if s.metrics.packetsToPeer.Load() != 1 || s.metrics.packetsToClient.Load() != 1 {
		t.Fatalf("relayed to peer %d, to client %d; want 1 and 1", s.metrics.packetsToPeer.Load(), s.metrics.packetsToClient.Load())
	}

	// A channel nobody bound goes to pion, which drops it.
	if _, err := r.conn.WriteTo([]byte{0x40, 0x02, 0, 1, 'x'}, server); err != nil {
		t.Fatal(err)
	}
	_ = peer.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _, err := peer.ReadFrom(buf); err == nil {
		t.Fatalf("an unbound channel reached the peer: %q", buf[:n])
	}
	// Another port of the permitted address has no channel: pion sends
	// its datagram as a Data indication.
	other := udpPeer(t)
	if _, err := other.WriteTo([]byte("indicated"), res.relay); err != nil {
		t.Fatal(err)
	}
	_ = r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err = r.conn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("client read: %v", err)
	}
	ind := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
	if ind.Decode() != nil || ind.Type != stun.NewType(stun.MethodData, stun.ClassIndication) {
		t.Fatalf("client got % x, want a Data indication", buf[:n])
	}
	if v, err := ind.Get(stun.AttrData); err != nil || string(v) != "indicated" {
		t.Fatalf("Data indication carries %q, %v", v, err)
	}

	// The server still relays, and forgets the channel with the allocation.
	if _, err := r.conn.WriteTo([]byte{0x40, 0x01, 0, 2, 'o', 'k'}, server); err != nil {
		t.Fatal(err)
	}
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := peer.ReadFrom(buf); err != nil || string(buf[:n]) != "ok" {
		t.Fatalf("after refusals the peer got %q, %v", buf[:n], err)
	}
	if resp := r.request(stun.MethodRefresh, stun.RawAttribute{Type: stun.AttrLifetime, Value: []byte{0, 0, 0, 0}}); resp.Type.Class != stun.ClassSuccessResponse {
		t.Fatalf("Refresh to 0: %v", resp)
	}
	for i := 0; i < 200 && s.ActiveAllocations() > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	s.fast.mu.RLock()
	channels, relays := len(s.fast.byClient), len(s.fast.relays)
	s.fast.mu.RUnlock()
	if channels != 0 || relays != 0 {
		t.Fatalf("after the allocation ended the table holds %d channels and %d relays", channels, relays)
	}
}

// TestRelayRoundTripOneReader runs pion's client (indications first, then
// a channel) through a server whose listening socket is in the data plane.
func TestRelayRoundTripOneReader(t *testing.T) {
	var logs *logBuffer
	t.Cleanup(func() { // after the server's Close
		if strings.Contains(logs.String(), "data plane stopped") {
			t.Errorf("Close logged the data plane's end as an error:\n%s", logs)
		}
	})
	s, logs := startServer(t, func(c *Config) { c.AllowLoopbackPeers = true; c.UDPReaders = 1 })
	c := newUDPClient(t, s.Addrs().UDP[0], testUser, testPass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	defer func() { _ = relay.Close() }()
	roundTrip(t, relay, udpPeer(t), 50)
	s.fast.mu.RLock()
	channels := len(s.fast.byClient)
	s.fast.mu.RUnlock()
	if channels != 1 {
		t.Fatalf("the data plane knows %d channels, want the client's 1", channels)
	}
}

func TestSlowQueue(t *testing.T) {
	q := newSlowQueue(newSlowPool(), relayQueueDepth)
	from := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 9}
	for i := range relayQueueDepth {
		if !q.push([]byte{byte(i)}, from) {
			t.Fatalf("push %d refused below the depth", i)
		}
	}
	if q.push([]byte{0}, from) {
		t.Fatal("a full queue took one more")
	}
	if q.push(make([]byte, maxPacket+1), from) {
		t.Fatal("an oversized datagram was queued")
	}
	buf := make([]byte, 16)
	idled := 0
	for i := range relayQueueDepth {
		n, addr, err := q.pop(buf, func() { idled++ })
		if err != nil || n != 1 || buf[0] != byte(i) || addr != from {
			t.Fatalf("pop %d: %d bytes %v from %v, %v", i, n, buf[:n], addr, err)
		}
	}
	if idled != 0 {
		t.Fatal("idle ran while datagrams were waiting")
	}
	q.close()
	if _, _, err := q.pop(buf, func() { idled++ }); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("pop after close: %v", err)
	}
	if idled != 1 {
		t.Fatal("idle did not run before waiting")
	}
}

// boundSession allocates on a new raw session and binds channel 0x4001 to
// peer.
func boundSession(t *testing.T, s *Server, peer *net.UDPConn) (*rawSession, rawResult) {
	t.Helper()
	r := newRawSession(t, s.Addrs().UDP[0], testUser, testPass, nil)
	res := r.allocate()
	if res.code != 0 {
		t.Fatalf("Allocate: error %d", res.code)
	}
	if resp := r.channelBind(0x4001, peer.LocalAddr().(*net.UDPAddr)); resp.Type.Class != stun.ClassSuccessResponse { //nolint:forcetypeassert // a UDP socket
		t.Fatalf("ChannelBind: %v", resp)
	}
	return r, res
}

// TestDataPlaneChannelsBelongToTheirClient: a channel number is looked up
// with the address it came from, so another client's ChannelData on the
// same number does not reach the first client's peer.
func TestDataPlaneChannelsBelongToTheirClient(t *testing.T) {
	s, _ := startServer(t, func(c *Config) { c.AllowLoopbackPeers = true; c.UDPReaders = 1 })
	peer := udpPeer(t)
	boundSession(t, s, peer)
	intruder := udpPeer(t)
	if _, err := intruder.WriteTo([]byte{0x40, 0x01, 0, 4, 's', 'p', 'o', 'f'}, s.Addrs().UDP[0]); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = peer.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _, err := peer.ReadFrom(buf); err == nil {
		t.Fatalf("another address's ChannelData reached the peer: %q", buf[:n])
	}
	if got := s.metrics.packetsToPeer.Load(); got != 0 {
		t.Fatalf("%d packets relayed to the peer", got)
	}
}

// TestDataPlaneBandwidthCapTowardsClient: the max-bps cap holds for
// ChannelData the data plane sends to a client.
func TestDataPlaneBandwidthCapTowardsClient(t *testing.T) {
	s, _ := startServer(t, func(c *Config) { c.AllowLoopbackPeers = true; c.UDPReaders = 1; c.MaxBPS = 8000 })
	peer := udpPeer(t)
	r, res := boundSession(t, s, peer)
	msg := make([]byte, 1000)
	for range 100 {
		if _, err := peer.WriteTo(msg, res.relay); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	buf := make([]byte, 1500)
	for {
		_ = r.conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, _, err := r.conn.ReadFrom(buf)
		if err != nil {
			break
		}
		if n >= 4 && buf[0] == 0x40 && buf[1] == 0x01 {
			got++
		}
	}
	if got == 0 || got >= 50 {
		t.Fatalf("client received %d of 100 kB-sized packets under an 8,000 B/s cap", got)
	}
	if s.metrics.bandwidthDrops.Load() == 0 {
		t.Fatal("no bandwidth drops counted")
	}
}

package turnsrv

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// TestPeerBurstReachesClientInOrder sends bursts of datagrams from a peer
// to a relay address and checks that the client gets every one, as
// ChannelData on its channel, in the order sent. The relay reads them in
// batches and the replies to the client leave in batches, so this covers
// both, with one and with two sockets on the listening port, and with
// datagrams of several sizes.
func TestPeerBurstReachesClientInOrder(t *testing.T) {
	for _, readers := range []int{1, 2} {
		t.Run(fmt.Sprintf("readers=%d", readers), func(t *testing.T) {
			testPeerBurst(t, func(c *Config) { c.UDPReaders = readers })
		})
	}
	// 0.0.0.0 gives a dual-stack IPv6 socket, so replies to an IPv4
	// client are addressed as IPv4-mapped IPv6.
	t.Run("wildcard", func(t *testing.T) {
		testPeerBurst(t, func(c *Config) {
			c.ListeningIPs = []netip.Addr{netip.IPv4Unspecified()}
			c.RelayIPs = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		})
	})
}

func testPeerBurst(t *testing.T, mutate func(*Config)) {
	const burst = 2000
	s, _ := startServer(t, func(c *Config) { c.AllowLoopbackPeers = true; mutate(c) })
	server := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.Addrs().UDP[0].(*net.UDPAddr).Port} //nolint:forcetypeassert // UDP
	client, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Close() }()
	_ = client.SetReadBuffer(4 << 20)
	sess := newRawSession(t, server, testUser, testPass, client)
	alloc := sess.allocate()
	if alloc.code != 0 {
		t.Fatalf("Allocate: %d", alloc.code)
	}
	peer := udpPeer(t)
	if bind := sess.channelBind(0x4001, peer.LocalAddr().(*net.UDPAddr)); bind.Type.Class != stun.ClassSuccessResponse { //nolint:forcetypeassert // UDP
		t.Fatalf("ChannelBind: %v", bind)
	}
	relay := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: alloc.relay.Port}

	done := make(chan error, 1)
	go func() {
		msg := make([]byte, 1400)
		for i := range burst {
			size := 8 + (i*37)%1300
			binary.BigEndian.PutUint32(msg, uint32(i)) //nolint:gosec // i < burst
			if _, err := peer.WriteTo(msg[:size], relay); err != nil {
				done <- err
				return
			}
			if i%200 == 199 {
				// Let the client's socket drain: the test checks the
				// server, not the client's receive buffer.
				time.Sleep(5 * time.Millisecond)
			}
		}
		done <- nil
	}()
	buf := make([]byte, 2048)
	next := 0
	for next < burst {
		_ = client.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, _, err := client.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %d of %d datagrams: %v", next, burst, err)
		}
		if n < 4 || binary.BigEndian.Uint16(buf) != 0x4001 {
			continue // a late STUN response
		}
		length := int(binary.BigEndian.Uint16(buf[2:]))
		want := 8 + (next*37)%1300
		if length != want || n < 4+length {
			t.Fatalf("datagram %d: ChannelData length %d (read %d), want %d", next, length, n, want)
		}
		if got := binary.BigEndian.Uint32(buf[4:]); got != uint32(next) { //nolint:gosec // next < burst
			t.Fatalf("datagram %d arrived as number %d", next, got)
		}
		next++
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

package turnsrv

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// TestEvenPortPairs allocates RTP/RTCP relay pairs the way
// turnutils_uclient does by default: an Allocate with EVEN-PORT(R) gets an
// even port and a RESERVATION-TOKEN, and a second Allocate from another
// client port presents the token and must get the next port. 250 pairs,
// 500 allocations in a row, none may fail with 508.
func TestEvenPortPairs(t *testing.T) {
	const pairs = 250
	s, _ := startServer(t, func(c *Config) { c.UDPReaders = 4 })
	server := s.Addrs().UDP[0]
	for i := range pairs {
		rtp := rawAllocate(t, server, testUser, testPass, nil, evenPort)
		if rtp.code != 0 {
			t.Fatalf("pair %d: EVEN-PORT Allocate failed with %d", i, rtp.code)
		}
		if rtp.relay.Port%2 != 0 || len(rtp.token) != 8 {
			t.Fatalf("pair %d: relay port %d, token %x", i, rtp.relay.Port, rtp.token)
		}
		rtcp := rawAllocate(t, server, testUser, testPass, nil, reservation(rtp.token))
		if rtcp.code != 0 {
			t.Fatalf("pair %d: RESERVATION-TOKEN Allocate failed with %d", i, rtcp.code)
		}
		if rtcp.relay.Port != rtp.relay.Port+1 {
			t.Fatalf("pair %d: RTCP relay port %d, want %d", i, rtcp.relay.Port, rtp.relay.Port+1)
		}
	}
	if got := s.ActiveAllocations(); got != 2*pairs {
		t.Fatalf("ActiveAllocations = %d, want %d", got, 2*pairs)
	}
	if held := s.relay.heldCount(); held != 0 {
		t.Fatalf("%d reserved sockets still held after every reservation was used", held)
	}
}

// TestReservationHoldsPort checks that the odd port promised by a
// reservation cannot be taken by anyone else in the meantime.
func TestReservationHoldsPort(t *testing.T) {
	s, _ := startServer(t, nil)
	rtp := rawAllocate(t, s.Addrs().UDP[0], testUser, testPass, nil, evenPort)
	if rtp.code != 0 {
		t.Fatalf("EVEN-PORT Allocate: %d", rtp.code)
	}
	squat, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: rtp.relay.Port + 1})
	if err == nil {
		_ = squat.Close()
		t.Fatalf("port %d was free while reserved", rtp.relay.Port+1)
	}
	bad := rawAllocate(t, s.Addrs().UDP[0], testUser, testPass, nil, reservation([]byte("12345678")))
	if bad.code != 508 {
		t.Fatalf("unknown token: code %d, want 508", bad.code)
	}
	both := rawAllocate(t, s.Addrs().UDP[0], testUser, testPass, nil, evenPort, reservation(rtp.token))
	if both.code != 400 {
		t.Fatalf("EVEN-PORT with RESERVATION-TOKEN: code %d, want 400", both.code)
	}
}

// TestBurstNoKernelDrops sends a burst of 1,000 datagrams of 1,200 bytes
// through one allocation as fast as one socket can, and checks that
// neither the server's listening sockets nor its relay socket dropped any
// in the kernel (the per-socket drops column of /proc/net/udp) and that
// the peer received them all.
func TestBurstNoKernelDrops(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("per-socket drop counters are read from /proc/net/udp")
	}
	for _, readers := range []int{1, 2} {
		t.Run(fmt.Sprintf("readers=%d", readers), func(t *testing.T) { testBurst(t, readers) })
	}
}

func testBurst(t *testing.T, readers int) {
	const burst, size = 1000, 1200
	s, _ := startServer(t, func(c *Config) { c.AllowLoopbackPeers = true; c.UDPReaders = readers })
	server := s.Addrs().UDP[0]
	client, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Close() }()
	sess := newRawSession(t, server, testUser, testPass, client)
	alloc := sess.allocate()
	if alloc.code != 0 {
		t.Fatalf("Allocate: %d", alloc.code)
	}
	peer := udpPeer(t)
	_ = peer.SetReadBuffer(4 << 20)
	peerAddr := peer.LocalAddr().(*net.UDPAddr) //nolint:forcetypeassert // a UDP socket
	if bind := sess.channelBind(0x4000, peerAddr); bind.Type.Class != stun.ClassSuccessResponse {
		t.Fatalf("ChannelBind: %v", bind)
	}
	before := socketDrops(t)
	frame := make([]byte, 4+size)
	frame[0], frame[1], frame[2], frame[3] = 0x40, 0x00, byte(size>>8), byte(size&0xff)
	for i := range burst {
		frame[4] = byte(i)
		if _, err := client.WriteTo(frame, server); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	buf := make([]byte, 2048)
	for got < burst {
		_ = peer.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, _, err := peer.ReadFrom(buf)
		if err != nil {
			break
		}
		if n == size {
			got++
		}
	}
	after := socketDrops(t)
	ports := []int{server.(*net.UDPAddr).Port, alloc.relay.Port, peerAddr.Port} //nolint:forcetypeassert // UDP
	for _, p := range ports {
		if d := after[p] - before[p]; d != 0 {
			t.Errorf("socket on port %d dropped %d datagrams in the kernel", p, d)
		}
	}
	if got != burst {
		t.Fatalf("peer received %d of %d datagrams", got, burst)
	}
}

// socketDrops sums the kernel's per-socket drop counters of IPv4 UDP
// sockets by local port.
func socketDrops(t *testing.T) map[int]uint64 {
	t.Helper()
	fh, err := os.Open("/proc/net/udp")
	if err != nil {
		t.Skipf("no /proc/net/udp: %v", err)
	}
	defer func() { _ = fh.Close() }()
	out := map[int]uint64{}
	sc := bufio.NewScanner(fh)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 13 {
			continue
		}
		_, portHex, _ := strings.Cut(f[1], ":")
		port, err1 := strconv.ParseUint(portHex, 16, 16)
		drops, err2 := strconv.ParseUint(f[len(f)-1], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("cannot read /proc/net/udp line %q", sc.Text())
		}
		out[int(port)] += drops
	}
	return out
}

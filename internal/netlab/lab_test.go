package netlab_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/netlab"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newLab builds a lab for t and closes it when t ends; it skips t where
// namespaces cannot be made (not root).
func newLab(t *testing.T, a, b netlab.NAT) *netlab.Lab {
	t.Helper()
	l, err := netlab.New(netlab.Config{NATs: [2]netlab.NAT{a, b}})
	if errors.Is(err, netlab.ErrUnavailable) {
		t.Skipf("real-kernel NAT lab unavailable here, run as root to include it: %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	return l
}

func TestConfigRefused(t *testing.T) {
	_, err := netlab.New(netlab.Config{Prefix: "Bad-Prefix"})
	assert.ErrorIs(t, err, netlab.ErrConfig)
	_, err = netlab.New(netlab.Config{NATs: [2]netlab.NAT{netlab.Cone, 7}})
	assert.ErrorIs(t, err, netlab.ErrConfig)
}

// The routers are the NATs they say: asked from one socket, two STUN
// ports see one public port behind a cone NAT and two behind a
// symmetric one, always at the router's public address.
func TestMappingBehaviour(t *testing.T) {
	l := newLab(t, netlab.Cone, netlab.Symmetric)
	for i, lan := range l.LANs {
		m, err := lan.ProbeMapping(5 * time.Second)
		require.NoError(t, err, "LAN %d", i)
		t.Logf("LAN %d (%v NAT, host %v): STUN sees %v", i, lan.NAT, lan.HostIP, m)
		assert.Equal(t, lan.PublicIP, m.First.Addr(), "LAN %d leaves with its router's public address", i)
		assert.Equal(t, lan.PublicIP, m.Second.Addr())
		assert.Equal(t, lan.NAT == netlab.Cone, m.EndpointIndependent(), "LAN %d: %v NAT mapped %v", i, lan.NAT, m)
	}
}

// Blocking UDP and cutting the link stop the probe; clearing and
// restoring bring it back; loss and the cap do what they say; Close
// leaves no namespace behind.
func TestFaults(t *testing.T) {
	l := newLab(t, netlab.Cone, netlab.Cone)
	lan := l.LANs[0]
	probe := func() error { _, err := lan.ProbeMapping(time.Second); return err }

	require.NoError(t, probe())
	require.NoError(t, lan.BlockUDP())
	assert.Error(t, probe(), "UDP blocked")
	require.NoError(t, lan.ClearFaults())
	assert.NoError(t, probe(), "UDP unblocked")

	require.NoError(t, lan.Cut())
	assert.Error(t, probe(), "link cut")
	require.NoError(t, lan.Restore())
	assert.NoError(t, probe(), "link restored")

	// 30% loss: about 70% of packets one way arrive.
	require.NoError(t, lan.Loss(0.3))
	got := blast(t, l, 600, 0, 2*time.Millisecond)
	t.Logf("30%% loss: %d of 600 packets arrived", got)
	assert.InDelta(t, 420, got, 60)
	out, in, err := lan.Dropped()
	require.NoError(t, err)
	assert.Equal(t, int64(600-got), out, "drops counted on the way out")
	assert.Zero(t, in, "nothing came in")
	require.NoError(t, lan.ClearFaults())
	out, _, err = lan.Dropped()
	require.NoError(t, err)
	assert.Zero(t, out, "no loss rule after ClearFaults")

	// 1 Mbit/s cap: a second of 5 Mbit/s brings a second's worth, the
	// 100 ms queue and the 5 kB burst: at most about 1.2 Mbit.
	require.NoError(t, lan.Cap(1_000_000, 0))
	got = blast(t, l, 520, 1200, 2*time.Millisecond)
	t.Logf("1 Mbit/s cap: %d of 520 packets of 1200 bytes arrived in about a second", got)
	assert.Less(t, got*1200*8, 1_300_000)
	assert.Greater(t, got*1200*8, 700_000)
	require.NoError(t, lan.ClearFaults())
	got = blast(t, l, 520, 1200, 2*time.Millisecond)
	assert.Greater(t, got, 500, "cap removed")

	require.NoError(t, l.Close())
	ents, err := os.ReadDir("/run/netns")
	require.NoError(t, err)
	for _, e := range ents {
		assert.False(t, strings.HasPrefix(e.Name(), l.Name()+"-"), "left behind: %s", e.Name())
	}
}

// blast sends n UDP packets of size bytes (at least 16), one every gap,
// from LAN 0's host to the public namespace and returns how many arrived.
func blast(t *testing.T, l *netlab.Lab, n, size int, gap time.Duration) int {
	t.Helper()
	var rx, tx net.PacketConn
	require.NoError(t, l.Public.Do(func() (err error) {
		rx, err = net.ListenPacket("udp4", netip.AddrPortFrom(netlab.PublicIP, 0).String())
		return err
	}))
	defer rx.Close()
	require.NoError(t, l.LANs[0].Host.Do(func() (err error) {
		tx, err = net.ListenPacket("udp4", "0.0.0.0:0")
		return err
	}))
	defer tx.Close()
	got := make(chan int, 1)
	go func() {
		count, buf := 0, make([]byte, 2048)
		for {
			_ = rx.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if _, _, err := rx.ReadFrom(buf); err != nil {
				got <- count
				return
			}
			count++
		}
	}()
	pkt := make([]byte, max(size, 16))
	next := time.Now()
	for range n {
		_, err := tx.WriteTo(pkt, rx.LocalAddr())
		require.NoError(t, err)
		next = next.Add(gap)
		time.Sleep(time.Until(next))
	}
	return <-got
}

// A namespace left by a run that died is removed by the next New with
// the same prefix; others are left alone.
func TestStaleRemoved(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("real-kernel NAT lab needs root")
	}
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	stale := "avlnlstale" // not the lab's prefix: kept
	left := "avlnl" + strconv.Itoa(dead.Process.Pid) + "-1-pub"
	for _, n := range []string{stale, left} {
		if err := exec.Command("ip", "netns", "add", n).Run(); err != nil {
			t.Skipf("cannot make namespaces here: %v", err)
		}
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", stale).Run() })
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", left).Run() })
	newLab(t, netlab.Cone, netlab.Cone)
	_, err := os.Stat("/run/netns/" + left)
	assert.ErrorIs(t, err, os.ErrNotExist, "stale namespace removed")
	_, err = os.Stat("/run/netns/" + stale)
	assert.NoError(t, err, "foreign namespace kept")
}

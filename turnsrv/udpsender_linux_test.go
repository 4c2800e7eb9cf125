package turnsrv

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The raw sender reaches IPv4 peers from an IPv4 socket and from a
// dual-stack one (as IPv4-mapped addresses), and IPv6 peers from an IPv6
// socket; an address it cannot encode is left to the ordinary path.
func TestUDPSender(t *testing.T) {
	for _, c := range []struct{ name, from, to string }{
		{"v4", "127.0.0.1:0", "127.0.0.1:0"},
		{"dual-stack to v4", "[::]:0", "127.0.0.1:0"},
		{"v6", "[::1]:0", "[::1]:0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src, err := net.ListenPacket("udp", c.from)
			if err != nil {
				t.Skipf("no %s socket here: %v", c.from, err)
			}
			defer src.Close()
			dst, err := net.ListenPacket("udp", c.to)
			require.NoError(t, err)
			defer dst.Close()

			s := newUDPSender(src.(*net.UDPConn))
			require.NotNil(t, s)
			for _, size := range []int{0, 1, 1200, 1500} {
				msg := make([]byte, size)
				for i := range msg {
					msg[i] = byte(i + size)
				}
				n, handled, err := s.writeTo(msg, dst.LocalAddr())
				require.NoError(t, err)
				require.True(t, handled)
				assert.Equal(t, size, n)

				buf := make([]byte, 2048)
				require.NoError(t, dst.SetReadDeadline(time.Now().Add(5*time.Second)))
				got, from, err := dst.ReadFrom(buf)
				require.NoError(t, err)
				assert.Equal(t, msg, buf[:got])
				assert.Equal(t, src.LocalAddr().(*net.UDPAddr).Port, from.(*net.UDPAddr).Port)
			}
		})
	}

	src, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer src.Close()
	s := newUDPSender(src.(*net.UDPConn))
	_, handled, err := s.writeTo([]byte("x"), &net.UDPAddr{IP: net.ParseIP("::1"), Port: 9})
	assert.False(t, handled, "an IPv4 socket cannot send to an IPv6 peer")
	assert.NoError(t, err)
}

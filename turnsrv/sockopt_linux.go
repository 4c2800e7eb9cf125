//go:build linux

package turnsrv

import (
	"log/slog"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// controlReusePort lets several sockets bind one UDP port; the kernel
// spreads clients across them by a hash of their address.
func controlReusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// setBuffers asks for size-byte receive and send buffers (none when size
// is zero). Listening
// sockets (force) may exceed net.core.rmem_max when the process has
// CAP_NET_ADMIN. A smaller result than asked is logged, since bursts then
// overflow into kernel drops (Udp RcvbufErrors in /proc/net/snmp).
func setBuffers(c *net.UDPConn, size int, force bool, log *slog.Logger) {
	if size <= 0 {
		return // the kernel's default sizes
	}
	raw, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		for _, o := range [][3]int{{unix.SO_RCVBUF, unix.SO_RCVBUFFORCE, 0}, {unix.SO_SNDBUF, unix.SO_SNDBUFFORCE, 1}} {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[0], size)
			got, _ := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, o[0])
			// Linux reports twice the usable size it granted.
			if got/2 < size && force {
				_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[1], size)
				got, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, o[0])
			}
			if got/2 < size && force {
				name := "receive"
				if o[2] == 1 {
					name = "send"
				}
				log.Warn("kernel refused the socket buffer size; raise net.core.rmem_max/wmem_max or grant CAP_NET_ADMIN",
					"socket", c.LocalAddr().String(), "buffer", name, "asked", size, "got", got/2)
			}
		}
	})
}

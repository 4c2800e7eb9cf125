//go:build !linux

package turnsrv

import (
	"log/slog"
	"net"
	"syscall"
)

// controlReusePort is not used off Linux: Config.UDPReaders is 1 there.
func controlReusePort(_, _ string, _ syscall.RawConn) error { return nil }

// setBuffers asks for size-byte buffers (none when size is zero); the
// result is not checked here.
func setBuffers(c *net.UDPConn, size int, _ bool, _ *slog.Logger) {
	if size <= 0 {
		return // the kernel's default sizes
	}
	_ = c.SetReadBuffer(size)
	_ = c.SetWriteBuffer(size)
}

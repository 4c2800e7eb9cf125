//go:build unix

package wsserver

import "syscall"

// rawIO reports whether batchConn reads sockets itself, which lets an
// idle connection wait for data without holding a buffer.
const rawIO = true

// sysRead is read(2), retried when a signal interrupts it.
func sysRead(fd uintptr, p []byte) (int, syscall.Errno) {
	for {
		n, err := syscall.Read(int(fd), p)
		if err == nil {
			return n, 0
		}
		errno, ok := err.(syscall.Errno)
		if !ok {
			return -1, syscall.EIO
		}
		if errno != syscall.EINTR {
			return -1, errno
		}
	}
}

//go:build !unix

package wsserver

import "syscall"

// rawIO reports whether batchConn reads sockets itself: not here, where
// it reads through net.Conn with a buffer held while waiting.
const rawIO = false

func sysRead(uintptr, []byte) (int, syscall.Errno) { return -1, syscall.EINVAL }

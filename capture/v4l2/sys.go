package v4l2

import (
	"time"
	"unsafe"
)

// system is the seam between this package and the kernel: the few calls
// it makes outside its own memory. On Linux it makes the system calls
// (sys_linux.go); tests put a scripted fake device behind it. Everything
// above it — negotiation, buffer handling, conversion, error mapping — is
// the same code either way.
type system interface {
	// nodes returns the paths of the video nodes, /dev/video* in numeric
	// order.
	nodes() ([]string, error)
	// open opens a node for non-blocking reading and writing.
	open(path string) (device, error)
}

// device is one open node.
type device interface {
	// ioctl makes one V4L2 request; arg points at the request's struct.
	// Errors are syscall.Errno values.
	ioctl(req uintptr, arg unsafe.Pointer) error
	// mmap maps length bytes of the driver's buffer memory at offset.
	mmap(offset uint32, length int) ([]byte, error)
	munmap(b []byte) error
	// wait blocks until a buffer can be dequeued, the device reports an
	// error, timeout passes, or wake is called.
	wait(timeout time.Duration) (event, error)
	// wake makes a blocked wait, or the next one, return evWoken. It may
	// be called from any goroutine.
	wake()
	// now reads the clock of the driver's buffer timestamps
	// (CLOCK_MONOTONIC).
	now() time.Duration
	close() error
}

// event is what ended a wait.
type event int

const (
	evReady   event = iota + 1 // a buffer can be dequeued
	evError                    // the device reports an error (POLLERR, POLLHUP)
	evTimeout                  // nothing happened within the timeout
	evWoken                    // wake was called
)

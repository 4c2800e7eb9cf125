//go:build linux

package v4l2

import (
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hostSystem is the kernel's V4L2 interface, through raw system calls.
func hostSystem() system { return linuxSystem{} }

type linuxSystem struct{}

// nodes lists /dev/video*, ordered by their numbers.
func (linuxSystem) nodes() ([]string, error) {
	paths, err := filepath.Glob("/dev/video*")
	if err != nil {
		return nil, err
	}
	num := func(p string) int {
		n, err := strconv.Atoi(strings.TrimPrefix(p, "/dev/video"))
		if err != nil {
			return 1 << 30
		}
		return n
	}
	slices.SortFunc(paths, func(a, b string) int {
		if d := num(a) - num(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return paths, nil
}

// open opens the node non-blocking, with an eventfd beside it that wake
// signals so a blocked poll returns at once.
func (linuxSystem) open(path string) (device, error) {
	fd, err := retry(func() (int, error) { return unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0) })
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &linuxDevice{fd: fd, efd: efd}, nil
}

type linuxDevice struct{ fd, efd int }

func retry(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}

func (d *linuxDevice) ioctl(req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(d.fd), req, uintptr(arg))
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return syscall.Errno(e)
	}
}

func (d *linuxDevice) mmap(offset uint32, length int) ([]byte, error) {
	return unix.Mmap(d.fd, int64(offset), length, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

func (d *linuxDevice) munmap(b []byte) error { return unix.Munmap(b) }

func (d *linuxDevice) wait(timeout time.Duration) (event, error) {
	fds := []unix.PollFd{{Fd: int32(d.fd), Events: unix.POLLIN}, {Fd: int32(d.efd), Events: unix.POLLIN}}
	deadline := time.Now().Add(timeout)
	for {
		ms := int((time.Until(deadline) + time.Millisecond - 1) / time.Millisecond)
		if ms < 0 {
			ms = 0
		}
		n, err := unix.Poll(fds, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return evTimeout, nil
		}
		if fds[1].Revents != 0 {
			var b [8]byte
			_, _ = unix.Read(d.efd, b[:])
			return evWoken, nil
		}
		r := fds[0].Revents
		if r&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
			return evError, nil
		}
		if r&unix.POLLIN != 0 {
			return evReady, nil
		}
	}
}

func (d *linuxDevice) wake() {
	b := [8]byte{1}
	if *(*uint16)(unsafe.Pointer(&[2]byte{0, 1})) == 1 {
		b = [8]byte{7: 1} // big-endian
	}
	_, _ = unix.Write(d.efd, b[:])
}

func (d *linuxDevice) now() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

func (d *linuxDevice) close() error {
	unix.Close(d.efd)
	return unix.Close(d.fd)
}

package signalbench

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// rawPoller reads every rawConn of a run from one goroutine with
// level-triggered epoll: one read per readable connection, and no
// goroutine wake-up per message.
type rawPoller struct {
	ep    int
	wake  int // eventfd that stops the loop
	conns map[int32]*rawConn
	// onEnd is called from the loop when a connection ends (EOF, a
	// close frame, a bad frame); the loop stops reading it.
	onEnd func(*rawConn, error)
	done  chan struct{}
	once  sync.Once
}

// startRawPoller starts reading conns. The connections must stay open
// until stop returns.
func startRawPoller(conns []*rawConn, onEnd func(*rawConn, error)) (*rawPoller, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("signalbench: epoll: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(ep)
		return nil, fmt.Errorf("signalbench: eventfd: %w", err)
	}
	p := &rawPoller{ep: ep, wake: wake, conns: make(map[int32]*rawConn, len(conns)), onEnd: onEnd, done: make(chan struct{})}
	add := func(fd int) error {
		return unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}) //nolint:gosec // fds fit
	}
	for _, c := range conns {
		raw, err := c.nc.SyscallConn()
		if err == nil {
			err = raw.Control(func(fd uintptr) {
				p.conns[int32(fd)] = c //nolint:gosec // fds fit
				err = add(int(fd))     //nolint:gosec // fds fit
			})
		}
		if err != nil {
			p.closeFDs()
			return nil, fmt.Errorf("signalbench: poll a connection: %w", err)
		}
	}
	if err := add(wake); err != nil {
		p.closeFDs()
		return nil, fmt.Errorf("signalbench: poll the stop event: %w", err)
	}
	go p.loop()
	return p, nil
}

func (p *rawPoller) loop() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 128)
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.EpollWait(p.ep, events, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == p.wake {
				return
			}
			c := p.conns[ev.Fd]
			if c == nil {
				continue
			}
			m, err := unix.Read(int(ev.Fd), buf)
			switch {
			case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
				continue
			case err == nil && m == 0:
				err = errPeerClosed
			case err == nil:
				err = c.feed(buf[:m])
			}
			if err != nil {
				_ = unix.EpollCtl(p.ep, unix.EPOLL_CTL_DEL, int(ev.Fd), nil)
				delete(p.conns, ev.Fd)
				p.onEnd(c, err)
			}
		}
	}
}

// stop ends the loop and waits for it.
func (p *rawPoller) stop() {
	p.once.Do(func() {
		var one [8]byte
		one[0] = 1 // eventfd counters are host-endian; any non-zero value wakes it
		_, _ = unix.Write(p.wake, one[:])
		<-p.done
		p.closeFDs()
	})
}

func (p *rawPoller) closeFDs() {
	unix.Close(p.wake)
	unix.Close(p.ep)
}

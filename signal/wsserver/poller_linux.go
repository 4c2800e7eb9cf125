package wsserver

import (
	"os"
	"sync"
	"syscall"
)

// poller watches the sockets of idle connections with one epoll instance,
// so that an idle connection needs no goroutine: when its socket has
// something (data, the client's FIN, an error), the connection's reader
// is started again. Each socket is watched once (EPOLLONESHOT) and taken
// out of the set when it fires, so a connection is never read by two
// goroutines.
//
// The epoll instance is itself waited on through Go's network poller (an
// epoll descriptor is readable while it has events), so the waiting
// holds no thread and no processor: a blocking epoll_wait would keep one
// of the process's processors from the connections' goroutines until the
// runtime took it back.
type poller struct {
	ep     *os.File
	ready  func(*peer)
	mu     sync.Mutex
	parked map[int32]*peer
	done   chan struct{}
}

func newPoller(ready func(*peer)) (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		_ = syscall.Close(epfd)
		return nil, err
	}
	pl := &poller{ep: os.NewFile(uintptr(epfd), "epoll"), ready: ready, parked: map[int32]*peer{}, done: make(chan struct{})}
	rc, err := pl.ep.SyscallConn()
	if err != nil {
		_ = pl.ep.Close()
		return nil, err
	}
	go pl.loop(rc)
	return pl, nil
}

// ctl runs epoll_ctl on the instance.
func (pl *poller) ctl(op, fd int, ev *syscall.EpollEvent) error {
	var err error
	rc, rerr := pl.ep.SyscallConn()
	if rerr != nil {
		return rerr
	}
	if cerr := rc.Control(func(ep uintptr) { err = syscall.EpollCtl(int(ep), op, fd, ev) }); cerr != nil {
		return cerr
	}
	return err
}

// add watches fd for p until it fires or remove is called.
func (pl *poller) add(fd int, p *peer) error {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(fd)} //nolint:gosec // an fd
	if err := pl.ctl(syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return err
	}
	pl.parked[int32(fd)] = p //nolint:gosec // an fd
	return nil
}

// remove stops watching fd; it reports whether fd was watched.
func (pl *poller) remove(fd int) bool {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.removeLocked(int32(fd)) //nolint:gosec // an fd
}

func (pl *poller) removeLocked(fd int32) bool {
	if _, ok := pl.parked[fd]; !ok {
		return false
	}
	delete(pl.parked, fd)
	_ = pl.ctl(syscall.EPOLL_CTL_DEL, int(fd), nil)
	return true
}

// loop takes the events as they come and starts the readers, until close.
func (pl *poller) loop(rc syscall.RawConn) {
	defer close(pl.done)
	events := make([]syscall.EpollEvent, 128)
	var ready []*peer
	for {
		err := rc.Read(func(ep uintptr) bool {
			n, err := syscall.EpollWait(int(ep), events, 0)
			if err != nil || n <= 0 {
				return err != nil && err != syscall.EINTR // nothing yet: wait in Go's poller
			}
			pl.mu.Lock()
			for _, ev := range events[:n] {
				if p := pl.parked[ev.Fd]; p != nil {
					ready = append(ready, p)
				}
				pl.removeLocked(ev.Fd)
			}
			pl.mu.Unlock()
			return true
		})
		if err != nil {
			return // closed
		}
		for i, p := range ready {
			pl.ready(p)
			ready[i] = nil
		}
		ready = ready[:0]
	}
}

// close stops the loop and releases the epoll instance. Nothing may be
// watched any more.
func (pl *poller) close() {
	_ = pl.ep.Close()
	<-pl.done
}

//go:build linux

package turnsrv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dataPlane relays ChannelData between clients and peers on one
// goroutine, the way coturn's relay threads do: every listening and relay
// socket is in one level-triggered epoll set, which Go's poller watches
// as a single descriptor, so a burst of datagrams across many allocations
// costs one goroutine wake-up instead of one per allocation, and a
// datagram relayed from one allocation to another on this server is read
// in the same pass. Datagrams the fast table does not cover go to pion.
type dataPlane struct {
	ep    int
	file  *os.File // ep, registered with Go's poller
	raw   syscall.RawConn
	table *fastTable
	m     *metrics
	flush func()
	log   *slog.Logger

	mu    sync.RWMutex
	socks map[int32]*dpSocket

	// Loop state, used only by the loop goroutine.
	slots   *msgSlots
	events  []unix.EpollEvent
	n       int
	recvFn  func(fd uintptr)
	roundFn func(fd uintptr) bool
	// Drops for want of queue space, logged at most every 10 s.
	dropped       int
	droppedLogged time.Time
	done          chan struct{}
	closing       atomic.Bool
}

// dpSocket is one socket of the set: a relay socket or a listening one.
type dpSocket struct {
	raw   syscall.RawConn
	relay *relayConn
	lis   *fanInConn
	local netip.AddrPort // listening sockets: the address clients write to
	slow  *slowQueue
}

// newDataPlane starts a data plane, or returns an error when the system
// cannot give one (the server then reads sockets the portable way).
func newDataPlane(table *fastTable, m *metrics, flush func(), log *slog.Logger) (*dataPlane, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	if err := unix.SetNonblock(ep, true); err != nil {
		unix.Close(ep)
		return nil, fmt.Errorf("epoll: %w", err)
	}
	// A non-blocking descriptor given to os.NewFile is added to Go's
	// poller; an epoll set is readable when any of its sockets is.
	file := os.NewFile(uintptr(ep), "turnsrv-epoll")
	raw, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("epoll: %w", err)
	}
	d := &dataPlane{
		ep: ep, file: file, raw: raw, table: table, m: m, flush: flush, log: log,
		socks:  map[int32]*dpSocket{},
		slots:  newMsgSlots(),
		events: make([]unix.EpollEvent, 64),
		done:   make(chan struct{}),
	}
	d.recvFn = d.recv
	d.roundFn = d.round
	go d.run()
	return d, nil
}

// add puts a socket into the set.
func (d *dataPlane) add(s *dpSocket) error {
	var err error
	cerr := s.raw.Control(func(fd uintptr) {
		d.mu.Lock()
		defer d.mu.Unlock()
		err = unix.EpollCtl(d.ep, unix.EPOLL_CTL_ADD, int(fd), &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}) //nolint:gosec // descriptors fit
		if err == nil {
			d.socks[int32(fd)] = s //nolint:gosec // descriptors fit
		}
	})
	return errors.Join(cerr, err)
}

// remove takes a socket out of the set; call it before closing the
// socket, so its descriptor number is free of it before it can be reused.
func (d *dataPlane) remove(s *dpSocket) {
	_ = s.raw.Control(func(fd uintptr) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.socks[int32(fd)] == s { //nolint:gosec // descriptors fit
			_ = unix.EpollCtl(d.ep, unix.EPOLL_CTL_DEL, int(fd), nil)
			delete(d.socks, int32(fd)) //nolint:gosec // descriptors fit
		}
	})
}

// close stops the loop and waits for it.
func (d *dataPlane) close() {
	d.closing.Store(true)
	_ = d.file.Close()
	<-d.done
}

func (d *dataPlane) run() {
	defer close(d.done)
	err := d.raw.Read(d.roundFn)
	if err != nil && !d.closing.Load() {
		d.log.Error("turn data plane stopped", "error", err)
	}
}

// round serves ready sockets until none is left, then has Go's poller
// wait for the set (returning false makes RawConn.Read wait and call it
// again).
func (d *dataPlane) round(uintptr) bool {
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(d.ep),
			uintptr(unsafe.Pointer(&d.events[0])), uintptr(len(d.events)), 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 || n == 0 {
			d.flush()
			return false
		}
		for _, ev := range d.events[:n] {
			d.serve(ev.Fd)
		}
	}
}

// serve reads one batch from a ready socket and relays or hands on each
// datagram.
func (d *dataPlane) serve(fd int32) {
	d.mu.RLock()
	s := d.socks[fd]
	d.mu.RUnlock()
	if s == nil {
		return
	}
	d.n = 0
	if s.raw.Control(d.recvFn) != nil || d.n <= 0 {
		return // closed, nothing there, or an ICMP error from an earlier send
	}
	for i := range d.n {
		p, sa := d.slots.data(i), &d.slots.names[i]
		if s.relay != nil {
			d.fromPeer(s, p, sa)
		} else {
			d.fromClient(s, p, sa)
		}
	}
}

func (d *dataPlane) recv(fd uintptr) {
	d.n, _ = d.slots.recv(fd)
}

// fromClient relays a client's ChannelData on a channel the table knows
// straight from the relay socket; everything else goes to pion.
func (d *dataPlane) fromClient(s *dpSocket, p []byte, sa *unix.RawSockaddrInet6) {
	if isChannelData(p) {
		num, size := binary.BigEndian.Uint16(p), int(binary.BigEndian.Uint16(p[2:]))
		if 4+size <= len(p) {
			if c, ok := d.table.toPeer(sockaddrAddrPort(sa), s.local, num); ok {
				_, _ = c.relay.WriteTo(p[4:4+size], c.peer)
				return
			}
		}
	}
	d.handOn(s, p, sa)
}

// fromPeer sends a peer's datagram to the client as ChannelData when the
// peer has a channel; otherwise pion makes the Data indication (or drops
// it for want of a permission).
func (d *dataPlane) fromPeer(s *dpSocket, p []byte, sa *unix.RawSockaddrInet6) {
	r := s.relay
	num, client, out, ok := d.table.toClient(r, sockaddrAddrPort(sa))
	if !ok {
		d.handOn(s, p, sa)
		return
	}
	if r.fromPeer != nil && !r.fromPeer.AllowN(time.Now(), len(p)) {
		r.m.bandwidthDrops.Add(1)
		return
	}
	if !out.queueChannelData(num, p, client) {
		d.m.dropped.WithLabelValues(dropTooBig).Inc()
		return
	}
	r.m.packetsToClient.Add(1)
	r.m.bytesToClient.Add(uint64(len(p)))
}

func (d *dataPlane) handOn(s *dpSocket, p []byte, sa *unix.RawSockaddrInet6) {
	if s.slow.push(p, sockaddrToUDP(sa)) {
		return
	}
	d.m.dropped.WithLabelValues(dropQueueFull).Inc()
	d.dropped++
	if now := time.Now(); now.Sub(d.droppedLogged) >= 10*time.Second {
		kind := "relay"
		if s.lis != nil {
			kind = "listening"
		}
		d.log.Warn("turn server falling behind: datagrams dropped before pion could take them",
			"socket", kind, "dropped_since_last_report", d.dropped)
		d.dropped, d.droppedLogged = 0, now
	}
}

// sockaddrAddrPort decodes a sockaddr_in or sockaddr_in6 without
// allocating, unmapping IPv4-mapped addresses.
func sockaddrAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	if sa.Family == unix.AF_INET {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), uint16(p[0])<<8|uint16(p[1]))
	}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(p[0])<<8|uint16(p[1]))
}

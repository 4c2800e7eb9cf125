//go:build linux

package turnsrv

import (
	"encoding/binary"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgHdr is the kernel's struct mmsghdr: one message of a recvmmsg or
// sendmmsg call and, after the call, its length.
type mmsgHdr struct {
	hdr unix.Msghdr
	n   uint32
}

// msgSlots is the memory for up to batchSize datagrams with their
// addresses, laid out once so system calls need no allocation.
type msgSlots struct {
	hdrs  []mmsgHdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
	buf   []byte
}

func newMsgSlots() *msgSlots {
	s := &msgSlots{
		hdrs:  make([]mmsgHdr, batchSize),
		iovs:  make([]unix.Iovec, batchSize),
		names: make([]unix.RawSockaddrInet6, batchSize),
		buf:   make([]byte, batchSize*maxPacket),
	}
	for i := range s.hdrs {
		s.iovs[i].Base = &s.buf[i*maxPacket]
		s.iovs[i].SetLen(maxPacket)
		h := &s.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&s.names[i]))
		h.Namelen = unix.SizeofSockaddrInet6
		h.Iov = &s.iovs[i]
		h.SetIovlen(1)
	}
	return s
}

// recv fills the slots with one recvmmsg on fd, without waiting.
func (s *msgSlots) recv(fd uintptr) (int, syscall.Errno) {
	for i := range s.hdrs {
		s.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		s.hdrs[i].hdr.Flags = 0
		s.iovs[i].SetLen(maxPacket)
	}
	return mmsgCall(unix.SYS_RECVMMSG, fd, s.hdrs, unix.MSG_DONTWAIT)
}

func (s *msgSlots) data(i int) []byte {
	return s.buf[i*maxPacket : i*maxPacket+int(s.hdrs[i].n)]
}

// mmsgCall issues recvmmsg or sendmmsg on fd.
//
// The sockets are non-blocking, so these calls never wait, and they are
// made as raw system calls: a Go system call that finds the runtime's
// monitor thread asleep (as it is whenever the server was idle) wakes it,
// and it then polls every 20 µs for a while. Under light, paced traffic
// that polling cost more CPU than relaying the packets.
func mmsgCall(trap, fd uintptr, hs []mmsgHdr, flags int) (int, syscall.Errno) {
	n, _, errno := unix.RawSyscall6(trap, fd, uintptr(unsafe.Pointer(&hs[0])), uintptr(len(hs)), uintptr(flags), 0, 0)
	return int(n), errno
}

// udpSender sends single datagrams from a UDP socket with a raw sendto
// (see mmsgCall for why raw). It is not safe for concurrent use; pion
// writes a relay socket from one goroutine at a time per allocation, and
// relayConn guards it anyway.
type udpSender struct {
	raw    syscall.RawConn
	v6     bool
	sa     unix.RawSockaddrInet6
	salen  uintptr
	p      []byte
	n      int
	errno  syscall.Errno
	sendFn func(fd uintptr) bool
}

// newUDPSender returns a sender for c, or nil when c cannot give its raw
// descriptor.
func newUDPSender(c *net.UDPConn) *udpSender {
	raw, v6, ok := rawUDP(c)
	if !ok {
		return nil
	}
	s := &udpSender{raw: raw, v6: v6}
	s.sendFn = s.send
	return s
}

// rawUDP returns c's raw descriptor and whether the socket is IPv6, which
// decides the address format: Go binds "0.0.0.0" as a dual-stack IPv6
// socket where it can. ok is false when c cannot give either.
func rawUDP(c *net.UDPConn) (raw syscall.RawConn, v6, ok bool) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, false, false
	}
	domain := unix.AF_INET
	cerr := raw.Control(func(fd uintptr) {
		domain, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
	})
	if cerr != nil || err != nil {
		return nil, false, false
	}
	return raw, domain == unix.AF_INET6, true
}

// writeTo sends p to addr. It reports handled=false for an address it
// cannot encode, which the caller then sends the ordinary way.
func (s *udpSender) writeTo(p []byte, addr net.Addr) (n int, handled bool, err error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || !udpToSockaddr(ua, s.v6, &s.sa) {
		return 0, false, nil
	}
	s.salen = unix.SizeofSockaddrInet4
	if s.v6 {
		s.salen = unix.SizeofSockaddrInet6
	}
	s.p, s.n, s.errno = p, 0, 0
	err = s.raw.Write(s.sendFn)
	s.p = nil
	if err == nil && s.errno != 0 {
		err = &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: os.NewSyscallError("sendto", s.errno)}
	}
	return s.n, true, err
}

func (s *udpSender) send(fd uintptr) bool {
	var base unsafe.Pointer
	if len(s.p) > 0 {
		base = unsafe.Pointer(&s.p[0])
	}
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(base), uintptr(len(s.p)), 0,
			uintptr(unsafe.Pointer(&s.sa)), s.salen)
		switch errno {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // wait until the socket can take it
		case 0:
			s.n = int(n)
		default:
			s.errno = errno
		}
		return true
	}
}

// mmsgReader reads a UDP socket in batches (recvmmsg) and hands the
// datagrams out one ReadFrom at a time. Before its goroutine waits for
// more data it calls idle, which is how replies queued on the way (see
// mmsgWriter) leave in one system call instead of one each.
//
// Addresses are decoded into 16-byte net.UDPAddrs and the last one is
// reused while the sender stays the same, as it does on a relay socket
// that hears one peer, so a read allocates nothing.
//
// The batch memory comes from a pool shared by all relay sockets and is
// held only while a batch is being handed out, so an idle allocation
// costs no buffer.
type mmsgReader struct {
	raw  syscall.RawConn
	idle func()
	pool *sync.Pool // of *msgSlots

	mu    sync.Mutex
	slots *msgSlots // nil between batches
	n     int
	next  int
	last  unix.RawSockaddrInet6
	addr  *net.UDPAddr
	errno syscall.Errno
	// readFn is the bound recvmmsg callback, made once so a read does not
	// allocate a closure.
	readFn func(fd uintptr) bool
}

// newMMsgReader returns a batch reader on c, or nil when c cannot give
// its raw descriptor.
func newMMsgReader(c *net.UDPConn, pool *sync.Pool, idle func()) *mmsgReader {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	r := &mmsgReader{raw: raw, idle: idle, pool: pool}
	r.readFn = r.recv
	return r
}

// newSlotPool returns a pool of batch memory for mmsgReaders.
func newSlotPool() *sync.Pool {
	return &sync.Pool{New: func() any { return newMsgSlots() }}
}

func (r *mmsgReader) recv(fd uintptr) bool {
	sl := r.pool.Get().(*msgSlots) //nolint:forcetypeassert // the pool holds only *msgSlots
	n, errno := sl.recv(fd)
	if errno == unix.EAGAIN {
		r.pool.Put(sl)
		if r.idle != nil {
			r.idle()
		}
		return false
	}
	r.n, r.errno = max(n, 0), errno
	if r.n > 0 {
		r.slots = sl
	} else {
		r.pool.Put(sl)
	}
	return true
}

// ReadFrom returns the next datagram, reading a new batch when the last
// one is used up.
func (r *mmsgReader) ReadFrom(p []byte) (int, net.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.next >= r.n {
		if r.slots != nil {
			r.pool.Put(r.slots)
			r.slots = nil
		}
		r.n, r.next = 0, 0
		if err := r.raw.Read(r.readFn); err != nil {
			if r.idle != nil {
				r.idle()
			}
			return 0, nil, err
		}
		switch r.errno {
		case 0:
		case unix.EINTR, unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH:
			// ICMP errors from earlier sends surface here; read on.
			continue
		default:
			return 0, nil, &net.OpError{Op: "read", Net: "udp", Err: r.errno}
		}
	}
	i := r.next
	r.next++
	n := copy(p, r.slots.data(i))
	a := r.addrOf(&r.slots.names[i])
	if r.next >= r.n {
		// Give the memory back before the caller handles the datagram.
		r.pool.Put(r.slots)
		r.slots = nil
		r.n, r.next = 0, 0
	}
	return n, a, nil
}

func (r *mmsgReader) addrOf(sa *unix.RawSockaddrInet6) *net.UDPAddr {
	if r.addr != nil && *sa == r.last {
		return r.addr
	}
	r.last = *sa
	r.addr = sockaddrToUDP(sa)
	return r.addr
}

// sockaddrToUDP decodes a sockaddr_in or sockaddr_in6.
func sockaddrToUDP(sa *unix.RawSockaddrInet6) *net.UDPAddr {
	if sa.Family == unix.AF_INET {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		return &net.UDPAddr{IP: net.IPv4(sa4.Addr[0], sa4.Addr[1], sa4.Addr[2], sa4.Addr[3]), Port: int(p[0])<<8 | int(p[1])}
	}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	ip := make(net.IP, net.IPv6len)
	copy(ip, sa.Addr[:])
	a := &net.UDPAddr{IP: ip, Port: int(p[0])<<8 | int(p[1])}
	if sa.Scope_id != 0 {
		if ifc, err := net.InterfaceByIndex(int(sa.Scope_id)); err == nil {
			a.Zone = ifc.Name
		}
	}
	return a
}

// udpToSockaddr encodes addr for a socket of family v6 (else IPv4); it
// reports false for an address the socket cannot reach.
func udpToSockaddr(addr *net.UDPAddr, v6 bool, sa *unix.RawSockaddrInet6) bool {
	if addr == nil {
		return false
	}
	if !v6 {
		ip4 := addr.IP.To4()
		if ip4 == nil {
			return false
		}
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET}
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		p[0], p[1] = byte(addr.Port>>8), byte(addr.Port) //nolint:gosec // a port is 16 bits
		copy(sa4.Addr[:], ip4)
		return true
	}
	ip := addr.IP.To16()
	if ip == nil {
		return false
	}
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(addr.Port>>8), byte(addr.Port) //nolint:gosec // a port is 16 bits
	copy(sa.Addr[:], ip)
	if addr.Zone != "" {
		if ifc, err := net.InterfaceByName(addr.Zone); err == nil {
			sa.Scope_id = uint32(ifc.Index) //nolint:gosec // interface indexes are small
		}
	}
	return true
}

// mmsgWriter queues datagrams for one UDP socket and sends them in
// batches (sendmmsg). Datagrams are queued by relay readers and leave
// when a batch is full or when a relay reader is about to wait for more
// data (mmsgReader's idle), so a burst of replies costs one system call
// and a lone reply leaves at once. Batches leave in the order they were
// queued.
type mmsgWriter struct {
	raw syscall.RawConn
	v6  bool

	mu      sync.Mutex
	cur     *msgSlots
	n       int
	pending atomic.Int32
	spare   *msgSlots

	// sendMu orders batches: it is taken before a batch is cut, so batches
	// leave in the order they were queued.
	sendMu  sync.Mutex
	sending *msgSlots
	sendN   int
	sendOff int
	sendErr syscall.Errno
	sendFn  func(fd uintptr) bool
}

func newMMsgWriter(c *net.UDPConn) *mmsgWriter {
	raw, v6, ok := rawUDP(c)
	if !ok {
		return nil
	}
	w := &mmsgWriter{raw: raw, v6: v6, cur: newMsgSlots(), spare: newMsgSlots()}
	w.sendFn = w.send
	return w
}

// queue copies p for addr into the current batch, sending the batch when
// it is full. It reports false when p cannot be queued (too big, or an
// address of the wrong family); the caller then writes it directly.
func (w *mmsgWriter) queue(p []byte, addr net.Addr) bool {
	ua, ok := addr.(*net.UDPAddr)
	return ok && w.queueFrame(-1, p, ua)
}

// queueChannel queues p as ChannelData on channel num, padded to a
// multiple of four bytes as pion pads it.
func (w *mmsgWriter) queueChannel(num uint16, p []byte, addr *net.UDPAddr) bool {
	return w.queueFrame(int(num), p, addr)
}

// queueFrame queues p, behind a ChannelData header when num >= 0.
func (w *mmsgWriter) queueFrame(num int, p []byte, ua *net.UDPAddr) bool {
	size := len(p)
	if num >= 0 {
		size = (4 + len(p) + 3) &^ 3
	}
	if size > maxPacket {
		return false
	}
	w.mu.Lock()
	for w.n == batchSize {
		// Full and not yet cut by the writer that filled it.
		w.mu.Unlock()
		w.flush()
		w.mu.Lock()
	}
	i := w.n
	if !udpToSockaddr(ua, w.v6, &w.cur.names[i]) {
		w.mu.Unlock()
		return false
	}
	h := &w.cur.hdrs[i].hdr
	if w.v6 {
		h.Namelen = unix.SizeofSockaddrInet6
	} else {
		h.Namelen = unix.SizeofSockaddrInet4
	}
	dst := w.cur.buf[i*maxPacket : i*maxPacket+size]
	if num >= 0 {
		binary.BigEndian.PutUint16(dst, uint16(num))        //nolint:gosec // channel numbers are 16 bits
		binary.BigEndian.PutUint16(dst[2:], uint16(len(p))) //nolint:gosec // len(p) < maxPacket
		clear(dst[4+copy(dst[4:], p):])
	} else {
		copy(dst, p)
	}
	w.cur.iovs[i].SetLen(size)
	w.n++
	full := w.n == batchSize
	w.pending.Store(int32(w.n)) //nolint:gosec // n <= batchSize
	w.mu.Unlock()
	if full {
		w.flush()
	}
	return true
}

// flush sends everything queued so far.
func (w *mmsgWriter) flush() {
	if w.pending.Load() == 0 {
		return
	}
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	w.mu.Lock()
	if w.n == 0 {
		w.mu.Unlock()
		return
	}
	b, n := w.cur, w.n
	w.cur, w.spare, w.n = w.spare, nil, 0
	w.pending.Store(0)
	w.mu.Unlock()

	w.sending, w.sendN, w.sendOff = b, n, 0
	for w.sendOff < w.sendN {
		w.sendErr = 0
		if err := w.raw.Write(w.sendFn); err != nil {
			break // closed: drop the rest
		}
		if w.sendErr != 0 {
			// The first unsent datagram failed (an ICMP error from an
			// earlier send, or an unreachable client): drop it, as a
			// failed sendto would, and go on with the rest.
			w.sendOff++
		}
	}
	w.sending = nil
	w.mu.Lock()
	w.spare = b
	w.mu.Unlock()
}

func (w *mmsgWriter) send(fd uintptr) bool {
	n, errno := mmsgCall(unix.SYS_SENDMMSG, fd, w.sending.hdrs[w.sendOff:w.sendN], 0)
	if errno == unix.EAGAIN {
		return false
	}
	if errno == unix.EINTR {
		return true
	}
	if n > 0 {
		w.sendOff += n
		return true
	}
	w.sendErr = errno
	if errno == 0 {
		w.sendErr = unix.EIO
	}
	return true
}

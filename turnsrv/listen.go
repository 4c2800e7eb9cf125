package turnsrv

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pion/stun/v4"
	"golang.org/x/net/ipv4"
)

// Receive batching. Each reader takes up to batchSize datagrams per
// recvmmsg call and hands them on as one unit.
const (
	batchSize  = 32
	maxPacket  = 2048
	queueDepth = 128
)

// rxBatch is a batch of datagrams read by one reader.
type rxBatch struct {
	msgs []ipv4.Message
	n    int
}

// fanInConn is the one net.PacketConn pion's server reads for a UDP port.
// Behind it, several sockets bound to the same port (SO_REUSEPORT on
// Linux) each have a reader goroutine that reads in batches, so the
// kernel's receive queues are drained in parallel and with few system
// calls, while pion keeps a single allocation table (and a single set of
// reservation tokens) for the port. pion's loop then only parses and
// forwards.
type fanInConn struct {
	socks []*net.UDPConn
	// tx batches ChannelData towards clients, one per socket (nil where
	// batching is not available).
	tx    []*mmsgWriter
	queue chan *rxBatch
	pool  sync.Pool
	// out prepares each STUN message before it is sent (Server.outgoing);
	// nil sends them as they are.
	out func(p []byte, to net.Addr) []byte
	// With one socket, ReadFrom reads it itself: through rx where raw
	// batch reads are available (Linux), else through inline, golang.org/x/
	// net's ReadBatch.
	rx     *mmsgReader
	inline *ipv4.PacketConn

	readMu sync.Mutex
	cur    *rxBatch
	next   int

	// With a data plane, it reads the sockets and hands pion (ReadFrom)
	// what it does not relay itself, through slow.
	dp   *dataPlane
	dps  *dpSocket
	slow *slowQueue

	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	log       *slog.Logger
}

// listenUDPFanIn binds readers sockets on addr and starts their readers;
// out (nil for none) prepares the STUN messages it sends.
func listenUDPFanIn(addr string, readers, bufSize int, out func([]byte, net.Addr) []byte, log *slog.Logger) (*fanInConn, error) {
	f := &fanInConn{
		queue: make(chan *rxBatch, queueDepth),
		done:  make(chan struct{}),
		out:   out,
		log:   log,
	}
	f.pool.New = func() any {
		b := &rxBatch{msgs: make([]ipv4.Message, batchSize)}
		for i := range b.msgs {
			b.msgs[i].Buffers = [][]byte{make([]byte, maxPacket)}
		}
		return b
	}
	lc := net.ListenConfig{}
	if readers > 1 {
		lc.Control = controlReusePort
	}
	for i := range readers {
		if i == 1 {
			// Bind the rest to the port the first one got (addr may say :0).
			addr = f.socks[0].LocalAddr().String()
		}
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			f.closeSocks()
			return nil, err
		}
		c := pc.(*net.UDPConn) //nolint:forcetypeassert // "udp" always gives *net.UDPConn
		setBuffers(c, bufSize, true, log)
		f.socks = append(f.socks, c)
		f.tx = append(f.tx, newMMsgWriter(c))
	}
	if len(f.socks) == 1 {
		// One socket: pion's loop reads the batches itself, which saves a
		// goroutine hand-off per wake-up when traffic is light.
		if f.rx = newMMsgReader(f.socks[0], newSlotPool(), nil); f.rx == nil {
			f.inline = ipv4.NewPacketConn(f.socks[0])
		}
		return f, nil
	}
	for _, c := range f.socks {
		f.wg.Add(1)
		go f.readLoop(c)
	}
	return f, nil
}

func (f *fanInConn) readLoop(c *net.UDPConn) {
	defer f.wg.Done()
	// ipv4.PacketConn's ReadBatch is recvmmsg on Linux and works for IPv6
	// sockets too (the message header format does not depend on family).
	pc := ipv4.NewPacketConn(c)
	for {
		b := f.pool.Get().(*rxBatch) //nolint:forcetypeassert // pool holds only *rxBatch
		for i := range b.msgs {
			b.msgs[i].Buffers[0] = b.msgs[i].Buffers[0][:maxPacket]
		}
		n, err := pc.ReadBatch(b.msgs, 0)
		if err != nil {
			f.pool.Put(b)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-f.done:
				return
			default:
			}
			// ICMP errors surface as read errors on UDP; keep reading.
			continue
		}
		b.n = n
		select {
		case f.queue <- b:
		case <-f.done:
			return
		}
	}
}

// useDataPlane moves the sockets' reading to dp. Where dp refuses a
// socket, the readers set up by listenUDPFanIn stay in charge.
func (f *fanInConn) useDataPlane(dp *dataPlane, pool *sync.Pool) {
	if len(f.socks) != 1 {
		return // several readers already spread the load over cores
	}
	local, ok := addrPort(f.LocalAddr())
	raw, err := f.socks[0].SyscallConn()
	if !ok || err != nil {
		return
	}
	slow := newSlowQueue(pool, listenerQueueDepth)
	s := &dpSocket{raw: raw, lis: f, local: local, slow: slow}
	if err := dp.add(s); err != nil {
		f.log.Warn("turn listening socket left out of the data plane", "error", err)
		return
	}
	f.dp, f.dps, f.slow, f.rx = dp, s, slow, nil
}

// queueChannelData queues p as ChannelData on channel num for client.
func (f *fanInConn) queueChannelData(num uint16, p []byte, client *net.UDPAddr) bool {
	i := 0
	if len(f.socks) > 1 {
		i = client.Port % len(f.socks)
	}
	w := f.tx[i]
	return w != nil && w.queueChannel(num, p, client)
}

// ReadFrom implements net.PacketConn for pion's read loop.
func (f *fanInConn) ReadFrom(p []byte) (int, net.Addr, error) {
	if f.slow != nil {
		return f.slow.pop(p, nil)
	}
	if f.rx != nil {
		n, addr, err := f.rx.ReadFrom(p)
		if err != nil {
			select {
			case <-f.done:
				err = net.ErrClosed
			default:
			}
		}
		return n, addr, err
	}
	f.readMu.Lock()
	defer f.readMu.Unlock()
	for f.cur == nil || f.next >= f.cur.n {
		if f.cur != nil {
			f.pool.Put(f.cur)
			f.cur = nil
		}
		if f.inline != nil {
			if err := f.readInline(); err != nil {
				return 0, nil, err
			}
			continue
		}
		select {
		case b := <-f.queue:
			f.cur, f.next = b, 0
		case <-f.done:
			return 0, nil, net.ErrClosed
		}
	}
	m := &f.cur.msgs[f.next]
	f.next++
	n := copy(p, m.Buffers[0][:m.N])
	return n, m.Addr, nil
}

// readInline fills f.cur with one batch from the only socket.
func (f *fanInConn) readInline() error {
	b := f.pool.Get().(*rxBatch) //nolint:forcetypeassert // pool holds only *rxBatch
	for i := range b.msgs {
		b.msgs[i].Buffers[0] = b.msgs[i].Buffers[0][:maxPacket]
	}
	for {
		n, err := f.inline.ReadBatch(b.msgs, 0)
		if err == nil {
			b.n = n
			f.cur, f.next = b, 0
			return nil
		}
		select {
		case <-f.done:
			f.pool.Put(b)
			return net.ErrClosed
		default:
		}
		if errors.Is(err, net.ErrClosed) {
			f.pool.Put(b)
			return err
		}
		// ICMP errors surface as read errors on UDP; keep reading.
	}
}

// WriteTo sends from one of the port's sockets (all share the address).
// ChannelData, which relay readers write, is queued and leaves in batches
// (see mmsgWriter); STUN messages leave at once, after what is queued.
func (f *fanInConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	n := len(p)
	i := 0
	if u, ok := addr.(*net.UDPAddr); ok && len(f.socks) > 1 {
		i = u.Port % len(f.socks)
	}
	w := f.tx[i]
	if w != nil {
		if isChannelData(p) && w.queue(p, addr) {
			return len(p), nil
		}
		w.flush()
	}
	if f.out != nil {
		p = f.out(p, addr)
	}
	if _, err := f.socks[i].WriteTo(p, addr); err != nil {
		return 0, err
	}
	return n, nil
}

// isChannelData reports whether p starts like a ChannelData message
// (channel numbers 0x4000-0x7FFF, RFC 8656 section 12.4).
func isChannelData(p []byte) bool {
	return len(p) >= 4 && p[0]&0xC0 == 0x40
}

// Close stops the readers and closes the sockets.
func (f *fanInConn) Close() error {
	var err error
	f.closeOnce.Do(func() {
		if f.dp != nil {
			f.dp.remove(f.dps)
			f.slow.close()
		}
		close(f.done)
		err = f.closeSocks()
		f.wg.Wait()
	})
	return err
}

func (f *fanInConn) closeSocks() error {
	var errs []error
	for _, c := range f.socks {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// LocalAddr implements net.PacketConn.
func (f *fanInConn) LocalAddr() net.Addr { return f.socks[0].LocalAddr() }

// SetDeadline implements net.PacketConn; pion does not use deadlines on
// listening sockets, so they are not supported.
func (f *fanInConn) SetDeadline(t time.Time) error { return nil }

// SetReadDeadline implements net.PacketConn (not supported, see SetDeadline).
func (f *fanInConn) SetReadDeadline(t time.Time) error { return nil }

// SetWriteDeadline implements net.PacketConn (not supported, see SetDeadline).
func (f *fanInConn) SetWriteDeadline(t time.Time) error { return nil }

// outPacketConn prepares outgoing STUN messages (Server.outgoing) on a
// net.PacketConn of a virtual network; outConn does it on a stream
// connection (TCP, TLS).
type outPacketConn struct {
	net.PacketConn
	out func(p []byte, to net.Addr) []byte
}

func (c outPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if _, err := c.PacketConn.WriteTo(c.out(p, addr), addr); err != nil {
		return 0, err
	}
	return len(p), nil
}

// trackingListener remembers accepted TCP connections so Close can end
// them (pion closes only the listener). TLS is layered above it, so a
// tls.Conn's Close reaches trackedConn.Close.
type trackingListener struct {
	net.Listener

	mu    sync.Mutex
	conns map[*trackedConn]struct{}
	done  bool
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	t := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	l.conns[t] = struct{}{}
	return t, nil
}

func (l *trackingListener) closeConns() error {
	l.mu.Lock()
	conns := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.done = true
	l.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	return nil
}

type trackedConn struct {
	net.Conn
	l *trackingListener
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// outListener prepares the STUN messages written on accepted stream
// connections (Server.outgoing). pion writes one whole message per Write.
// It wraps TLS connections too, above TLS, so pion sees no *tls.Conn and
// offers no TLS state to authentication, which this package does not use.
type outListener struct {
	net.Listener
	out func(p []byte, to net.Addr) []byte
}

func (l outListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*tls.Conn); ok {
		return &handshakeConn{outConn: outConn{c, l.out}, tls: tc}, nil
	}
	return outConn{c, l.out}, nil
}

// tlsHandshakeTimeout bounds a TLS client's handshake, as pion bounds it
// for a *tls.Conn it sees itself.
const tlsHandshakeTimeout = 10 * time.Second

// handshakeConn completes the TLS handshake, within tlsHandshakeTimeout,
// before the first read: a client that connects and stalls is dropped
// instead of holding its goroutine.
type handshakeConn struct {
	outConn
	tls  *tls.Conn
	once sync.Once
	err  error
}

func (c *handshakeConn) Read(p []byte) (int, error) {
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), tlsHandshakeTimeout)
		defer cancel()
		c.err = c.tls.HandshakeContext(ctx)
	})
	if c.err != nil {
		return 0, c.err
	}
	return c.outConn.Read(p)
}

type outConn struct {
	net.Conn
	out func(p []byte, to net.Addr) []byte
}

func (c outConn) Write(p []byte) (int, error) {
	if _, err := c.Conn.Write(c.out(p, c.RemoteAddr())); err != nil {
		return 0, err
	}
	return len(p), nil
}

// withFingerprint returns p with a FINGERPRINT attribute appended when p is
// a STUN message without one; ChannelData and other bytes pass unchanged.
func withFingerprint(p []byte) []byte {
	if !stun.IsMessage(p) {
		return p
	}
	m := &stun.Message{Raw: append(make([]byte, 0, len(p)+8), p...)}
	if err := m.Decode(); err != nil || m.Contains(stun.AttrFingerprint) {
		return p
	}
	if err := stun.Fingerprint.AddTo(m); err != nil {
		return p
	}
	return m.Raw
}

package turnsrv

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// relayConn wraps an allocation's relay socket: it counts relayed traffic
// and enforces the per-allocation bandwidth cap in each direction.
type relayConn struct {
	net.PacketConn
	// rx, when set, reads the socket in batches (Linux, real network).
	rx *mmsgReader
	// tx, when set, sends with raw system calls (Linux, real network).
	txMu     sync.Mutex
	tx       *udpSender
	m        *metrics
	toPeer   *rate.Limiter // nil: no cap
	fromPeer *rate.Limiter

	// With a data plane, it reads the socket and hands pion (ReadFrom)
	// only what it does not relay itself, through slow.
	dp        *dataPlane
	dps       *dpSocket
	slow      *slowQueue
	idle      func()
	table     *fastTable
	relayed   netip.AddrPort // guarded by table.mu
	fast      *relayFast     // guarded by table.mu
	closeOnce sync.Once
	closeErr  error
}

func (s *Server) wrapRelay(c net.PacketConn, relayed net.Addr) net.PacketConn {
	r := &relayConn{PacketConn: c, m: s.metrics}
	if uc, ok := c.(*net.UDPConn); ok {
		r.tx = newUDPSender(uc)
		if !r.useDataPlane(s, uc, relayed) {
			r.rx = newMMsgReader(uc, s.rxSlots, s.flushClientWrites)
		}
	}
	if bps := s.cfg.MaxBPS; bps > 0 {
		burst := int(max(bps, 4096))
		r.toPeer = rate.NewLimiter(rate.Limit(bps), burst)
		r.fromPeer = rate.NewLimiter(rate.Limit(bps), burst)
	}
	return r
}

// useDataPlane puts the socket in the server's data plane and reports
// whether it did.
func (c *relayConn) useDataPlane(s *Server, uc *net.UDPConn, relayed net.Addr) bool {
	if s.dp == nil {
		return false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return false
	}
	slow := newSlowQueue(s.slowPool, relayQueueDepth)
	dps := &dpSocket{raw: raw, relay: c, slow: slow}
	if err := s.dp.add(dps); err != nil {
		s.log.Warn("turn relay socket left out of the data plane", "error", err)
		return false
	}
	c.dp, c.dps, c.slow, c.idle, c.table = s.dp, dps, slow, s.flushClientWrites, s.fast
	s.fast.addRelay(c, relayed)
	return true
}

// Close takes the socket out of the data plane and closes it.
func (c *relayConn) Close() error {
	c.closeOnce.Do(func() {
		if c.dp != nil {
			c.dp.remove(c.dps)
			c.table.dropRelay(c)
			c.slow.close()
		}
		c.closeErr = c.PacketConn.Close()
	})
	return c.closeErr
}

// WriteTo sends a client's packet to a peer.
func (c *relayConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if c.toPeer != nil && !c.toPeer.AllowN(time.Now(), len(p)) {
		c.m.bandwidthDrops.Add(1)
		return len(p), nil
	}
	n, err := c.writeTo(p, addr)
	if err == nil {
		c.m.packetsToPeer.Add(1)
		c.m.bytesToPeer.Add(uint64(n)) //nolint:gosec // n >= 0
	}
	return n, err
}

func (c *relayConn) writeTo(p []byte, addr net.Addr) (int, error) {
	if c.tx != nil {
		c.txMu.Lock()
		n, handled, err := c.tx.writeTo(p, addr)
		c.txMu.Unlock()
		if handled {
			return n, err
		}
	}
	return c.PacketConn.WriteTo(p, addr)
}

// ReadFrom receives a peer's packet for the client.
func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		var (
			n    int
			addr net.Addr
			err  error
		)
		switch {
		case c.slow != nil:
			n, addr, err = c.slow.pop(p, c.idle)
		case c.rx != nil:
			n, addr, err = c.rx.ReadFrom(p)
		default:
			n, addr, err = c.PacketConn.ReadFrom(p)
		}
		if err != nil {
			return n, addr, err
		}
		if c.fromPeer != nil && !c.fromPeer.AllowN(time.Now(), n) {
			c.m.bandwidthDrops.Add(1)
			continue
		}
		c.m.packetsToClient.Add(1)
		c.m.bytesToClient.Add(uint64(n)) //nolint:gosec // n >= 0
		return n, addr, nil
	}
}

// flushClientWrites sends the datagrams relay readers have queued on the
// client-facing sockets. Relay readers call it before they wait for more
// data: every datagram queued by a relay reader has left by the time that
// reader sleeps.
func (s *Server) flushClientWrites() {
	if ws := s.writers.Load(); ws != nil {
		for _, w := range *ws {
			w.flush()
		}
	}
}

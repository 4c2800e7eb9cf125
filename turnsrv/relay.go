package turnsrv

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/reuseport"
	"github.com/pion/turn/v5"
)

// reservationHold is how long a port promised by EVEN-PORT (and the odd
// port after it, named by a RESERVATION-TOKEN) stays bound before it is
// given back: pion keeps reservation tokens for 30 seconds.
const reservationHold = 35 * time.Second

// relayAllocator is the turn.RelayAddressGenerator of a Server: it binds
// relay sockets on the relay IP within [min, max], reports the external
// address, and keeps EVEN-PORT reservations really bound until used.
//
// pion's EVEN-PORT handling asks the generator for a throw-away socket
// (with no user) to learn a free even port, closes it, and later asks for
// that port and for the port after it. A port that is closed in between
// can be taken by anyone, which is how reservations failed with 508. Here
// that throw-away request binds the even port and the next one together,
// its Close is a no-op, and both stay held until asked for by number or
// until reservationHold passes.
type relayAllocator struct {
	net      transport.Net // nil: the operating system's network
	tcpNet   transport.Net
	v4, v6   netip.Addr
	public   map[netip.Addr]netip.Addr
	min, max int
	bufSize  int
	filter   peerFilter
	wrap     func(c net.PacketConn, relayed net.Addr) net.PacketConn
	log      *slog.Logger

	mu     sync.Mutex
	held   map[heldKey]*heldConn
	closed bool
}

type heldKey struct {
	network string
	port    int
}

type heldConn struct {
	conn  net.PacketConn
	timer *time.Timer
}

// probeConn is what the even-port probe gets: the held socket with a Close
// that keeps it held.
type probeConn struct{ net.PacketConn }

func (probeConn) Close() error { return nil }

// Validate implements turn.RelayAddressGenerator.
func (a *relayAllocator) Validate() error {
	if !a.v4.IsValid() && !a.v6.IsValid() {
		return fmt.Errorf("%w: no relay-ip", ErrNoRelayAddress)
	}
	return nil
}

// bindIP returns the local relay address for a "udp4"/"tcp6"-style network.
func (a *relayAllocator) bindIP(network string) (netip.Addr, error) {
	ip := a.v4
	if len(network) > 0 && network[len(network)-1] == '6' {
		ip = a.v6
	}
	if !ip.IsValid() {
		return ip, fmt.Errorf("%w: no %s relay address", ErrNoRelayAddress, network)
	}
	return ip, nil
}

// publicIP maps a bound relay address to the one clients are told.
func (a *relayAllocator) publicIP(ip netip.Addr) netip.Addr {
	if p, ok := a.public[ip]; ok {
		return p
	}
	if ip.Is4() {
		if p, ok := a.public[netip.IPv4Unspecified()]; ok {
			return p
		}
	} else if p, ok := a.public[netip.IPv6Unspecified()]; ok {
		return p
	}
	return ip
}

func (a *relayAllocator) udpAddr(ip netip.Addr, port int) *net.UDPAddr {
	return &net.UDPAddr{IP: a.publicIP(ip).AsSlice(), Port: port}
}

// listenUDP binds one relay socket.
func (a *relayAllocator) listenUDP(network string, ip netip.Addr, port int) (net.PacketConn, error) {
	if a.net != nil {
		return a.net.ListenPacket(network, net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	}
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port)))) //nolint:gosec // port is within 1..65535
	if err != nil {
		return nil, err
	}
	setBuffers(c, a.bufSize, false, a.log)
	return c, nil
}

// AllocatePacketConn implements turn.RelayAddressGenerator.
func (a *relayAllocator) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	ip, err := a.bindIP(conf.Network)
	if err != nil {
		return nil, nil, err
	}
	if conf.RequestedPort != 0 {
		addr := a.udpAddr(ip, conf.RequestedPort)
		if c := a.takeHeld(conf.Network, conf.RequestedPort); c != nil {
			return a.wrap(c, addr), addr, nil
		}
		c, err := a.listenUDP(conf.Network, ip, conf.RequestedPort)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: port %d: %w", ErrNoRelayAddress, conf.RequestedPort, err)
		}
		return a.wrap(c, addr), addr, nil
	}
	if conf.UserID == "" {
		c, port, err := a.reservePair(conf.Network, ip)
		if err != nil {
			return nil, nil, err
		}
		return probeConn{c}, a.udpAddr(ip, port), nil
	}
	c, port, err := a.randomPort(func(port int) (net.PacketConn, error) { return a.listenUDP(conf.Network, ip, port) }, 1)
	if err != nil {
		return nil, nil, err
	}
	addr := a.udpAddr(ip, port)
	return a.wrap(c, addr), addr, nil
}

// randomPort binds at a random port in range (a multiple of step above
// min), then scans the range from there.
func (a *relayAllocator) randomPort(bind func(int) (net.PacketConn, error), step int) (net.PacketConn, int, error) {
	lo := a.min
	if step == 2 && lo%2 == 1 {
		lo++
	}
	slots := (a.max-lo)/step + 1
	if step == 2 {
		slots = (a.max-1-lo)/2 + 1
	}
	if slots <= 0 {
		return nil, 0, fmt.Errorf("%w: relay port range too small", ErrNoRelayAddress)
	}
	tries := 0
	for i, start := 0, rand.IntN(slots); i < slots && tries < 4096; i++ {
		port := lo + ((start+i)%slots)*step
		a.mu.Lock()
		_, isHeld := a.held[heldKey{"udp4", port}]
		a.mu.Unlock()
		if isHeld {
			continue
		}
		tries++
		if c, err := bind(port); err == nil {
			return c, port, nil
		}
	}
	return nil, 0, fmt.Errorf("%w: relay ports %d-%d exhausted", ErrNoRelayAddress, a.min, a.max)
}

// reservePair binds an even port and the port after it and holds both.
func (a *relayAllocator) reservePair(network string, ip netip.Addr) (net.PacketConn, int, error) {
	var odd net.PacketConn
	even, port, err := a.randomPort(func(port int) (net.PacketConn, error) {
		e, err := a.listenUDP(network, ip, port)
		if err != nil {
			return nil, err
		}
		o, err := a.listenUDP(network, ip, port+1)
		if err != nil {
			_ = e.Close()
			return nil, err
		}
		odd = o
		return e, nil
	}, 2)
	if err != nil {
		return nil, 0, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		_ = even.Close()
		_ = odd.Close()
		return nil, 0, net.ErrClosed
	}
	a.holdLocked(heldKey{network, port}, even)
	a.holdLocked(heldKey{network, port + 1}, odd)
	return even, port, nil
}

func (a *relayAllocator) holdLocked(k heldKey, c net.PacketConn) {
	h := &heldConn{conn: c}
	h.timer = time.AfterFunc(reservationHold, func() {
		a.mu.Lock()
		if a.held[k] == h {
			delete(a.held, k)
			_ = c.Close()
		}
		a.mu.Unlock()
	})
	a.held[k] = h
}

// takeHeld hands out a held socket, or nil.
func (a *relayAllocator) takeHeld(network string, port int) net.PacketConn {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := heldKey{network, port}
	h := a.held[k]
	if h == nil {
		return nil
	}
	delete(a.held, k)
	h.timer.Stop()
	return h.conn
}

// heldCount reports how many sockets are held for reservations.
func (a *relayAllocator) heldCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.held)
}

// close releases every held socket.
func (a *relayAllocator) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for k, h := range a.held {
		h.timer.Stop()
		_ = h.conn.Close()
		delete(a.held, k)
	}
}

// AllocateListener implements turn.RelayAddressGenerator for TCP
// allocations (RFC 6062).
func (a *relayAllocator) AllocateListener(conf turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	ip, err := a.bindIP(conf.Network)
	if err != nil {
		return nil, nil, err
	}
	lc := a.tcpNet.CreateListenConfig(&net.ListenConfig{Control: reuseport.Control})
	listen := func(port int) (net.Listener, error) {
		return lc.Listen(context.Background(), conf.Network, net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	}
	var ln net.Listener
	port := conf.RequestedPort
	if port != 0 {
		ln, err = listen(port)
	} else {
		for range 64 {
			port = a.min + rand.IntN(a.max-a.min+1)
			if ln, err = listen(port); err == nil {
				break
			}
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrNoRelayAddress, err)
	}
	return ln, &net.TCPAddr{IP: a.publicIP(ip).AsSlice(), Port: port}, nil
}

// AllocateConn implements turn.RelayAddressGenerator: it dials a TCP peer
// from the relay address.
func (a *relayAllocator) AllocateConn(conf turn.AllocateConnConfig) (net.Conn, error) {
	ip, err := a.bindIP(conf.Network)
	if err != nil {
		return nil, err
	}
	if !a.filter.allows(addrIP(conf.RemoteAddr)) {
		return nil, fmt.Errorf("%w: peer %s refused", ErrNoRelayAddress, conf.RemoteAddr)
	}
	port := 0
	if t, ok := conf.LocalAddr.(*net.TCPAddr); ok {
		port = t.Port
	}
	d := a.tcpNet.CreateDialer(&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: ip.AsSlice(), Port: port},
		Control:   reuseport.Control,
		Timeout:   10 * time.Second,
	})
	return d.Dial(conf.Network, conf.RemoteAddr.String())
}

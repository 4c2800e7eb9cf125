package turnsrv

import (
	"net"
	"net/netip"
	"sync"
)

// fastTable mirrors, from pion's allocation events, what the data plane
// needs to relay ChannelData without pion: which relay socket and peer a
// client's channel leads to, and which channel a peer's datagrams take
// back to the client. pion stays the authority: it creates and expires
// allocations and channels, and its events keep the table in step. Only
// UDP clients on the batch-read listening sockets are mirrored; anything
// the table does not know goes to pion as before.
type fastTable struct {
	mu        sync.RWMutex
	byClient  map[clientChan]fastChan
	relays    map[netip.AddrPort]*relayConn // by the relayed address pion was given
	listeners map[netip.AddrPort]*fanInConn // by local address
}

// clientChan names a channel as a client's datagrams do: the client's
// address, the listening address it wrote to, and the channel number.
type clientChan struct {
	client, local netip.AddrPort
	num           uint16
}

type fastChan struct {
	relay *relayConn
	peer  *net.UDPAddr
}

// relayFast is a relay socket's view of its allocation: where the
// client is and the channel each bound peer uses. fastTable.mu guards it.
type relayFast struct {
	client   *net.UDPAddr
	clientAP netip.AddrPort // client, as the table's keys hold it
	local    netip.AddrPort
	out      *fanInConn
	byPeer   map[netip.AddrPort]uint16
}

func newFastTable() *fastTable {
	return &fastTable{
		byClient:  map[clientChan]fastChan{},
		relays:    map[netip.AddrPort]*relayConn{},
		listeners: map[netip.AddrPort]*fanInConn{},
	}
}

// addrPort converts a *net.UDPAddr (the only kind pion reports for UDP)
// to an unmapped netip.AddrPort.
func addrPort(a net.Addr) (netip.AddrPort, bool) {
	u, ok := a.(*net.UDPAddr)
	if !ok || u == nil {
		return netip.AddrPort{}, false
	}
	ap := u.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), ap.IsValid()
}

func (t *fastTable) addListener(f *fanInConn) {
	if ap, ok := addrPort(f.LocalAddr()); ok {
		t.mu.Lock()
		t.listeners[ap] = f
		t.mu.Unlock()
	}
}

func (t *fastTable) addRelay(r *relayConn, relayed net.Addr) {
	ap, ok := addrPort(relayed)
	if !ok {
		return
	}
	t.mu.Lock()
	r.relayed = ap
	t.relays[ap] = r
	t.mu.Unlock()
}

// dropRelay forgets r and every channel that leads to it.
func (t *fastTable) dropRelay(r *relayConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.relays[r.relayed] == r {
		delete(t.relays, r.relayed)
	}
	if f := r.fast; f != nil {
		for _, num := range f.byPeer {
			delete(t.byClient, clientChan{client: f.clientAP, local: f.local, num: num})
		}
		r.fast = nil
	}
}

// allocated links a new allocation's relay socket to its client, when the
// client speaks UDP to a listening socket the data plane reads.
func (t *fastTable) allocated(src, dst net.Addr, proto string, relayed net.Addr) {
	if proto != "UDP" {
		return
	}
	client, ok1 := src.(*net.UDPAddr)
	cl, ok2 := addrPort(src)
	local, ok3 := addrPort(dst)
	rap, ok4 := addrPort(relayed)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r, out := t.relays[rap], t.listeners[local]
	if r == nil || out == nil {
		return
	}
	r.fast = &relayFast{client: client, clientAP: cl, local: local, out: out, byPeer: map[netip.AddrPort]uint16{}}
}

// channelCreated records a channel pion bound.
func (t *fastTable) channelCreated(src, relayed, peer net.Addr, num uint16) {
	rap, ok1 := addrPort(relayed)
	pap, ok2 := addrPort(peer)
	cl, ok3 := addrPort(src)
	pu, ok4 := peer.(*net.UDPAddr)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.relays[rap]
	if r == nil || r.fast == nil || r.fast.clientAP != cl {
		return
	}
	r.fast.byPeer[pap] = num
	t.byClient[clientChan{client: cl, local: r.fast.local, num: num}] = fastChan{relay: r, peer: pu}
}

// channelDeleted forgets a channel pion removed (expired, or its
// allocation ended).
func (t *fastTable) channelDeleted(src, relayed, peer net.Addr, num uint16) {
	rap, ok1 := addrPort(relayed)
	pap, ok2 := addrPort(peer)
	cl, ok3 := addrPort(src)
	if !ok1 || !ok2 || !ok3 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.relays[rap]
	if r == nil || r.fast == nil {
		return
	}
	if n, ok := r.fast.byPeer[pap]; ok && n == num {
		delete(r.fast.byPeer, pap)
	}
	k := clientChan{client: cl, local: r.fast.local, num: num}
	if c, ok := t.byClient[k]; ok && c.relay == r {
		delete(t.byClient, k)
	}
}

// toPeer returns where a client's ChannelData on channel num goes.
func (t *fastTable) toPeer(client, local netip.AddrPort, num uint16) (fastChan, bool) {
	t.mu.RLock()
	c, ok := t.byClient[clientChan{client: client, local: local, num: num}]
	t.mu.RUnlock()
	return c, ok
}

// toClient returns the channel and client for a datagram from peer on r.
func (t *fastTable) toClient(r *relayConn, peer netip.AddrPort) (num uint16, client *net.UDPAddr, out *fanInConn, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	f := r.fast
	if f == nil {
		return 0, nil, nil, false
	}
	num, ok = f.byPeer[peer]
	return num, f.client, f.out, ok
}

// slowPacket is a datagram handed from the data plane to pion.
type slowPacket struct {
	buf  [maxPacket]byte
	n    int
	addr *net.UDPAddr
}

// slowQueue carries datagrams the data plane does not relay itself (STUN
// requests, Send and Data indications, unknown channels) to the pion
// goroutine that reads the socket. It never blocks the data plane: when
// pion falls behind by the queue's depth, more datagrams are dropped, as
// the kernel would drop them from a full socket buffer.
type slowQueue struct {
	ch     chan *slowPacket
	pool   *sync.Pool
	closed chan struct{}
	once   sync.Once
}

// Queue depths. A listening socket takes every client's requests, and a
// few hundred clients starting at once send that many Allocates, each of
// which costs pion far more than relaying a datagram: its queue holds
// about what a 4 MiB socket buffer would. A relay socket only hands on
// its peers' datagrams that have no channel.
const (
	listenerQueueDepth = 4096
	relayQueueDepth    = 256
)

func newSlowQueue(pool *sync.Pool, depth int) *slowQueue {
	return &slowQueue{ch: make(chan *slowPacket, depth), pool: pool, closed: make(chan struct{})}
}

func newSlowPool() *sync.Pool {
	return &sync.Pool{New: func() any { return new(slowPacket) }}
}

// push queues a copy of p from addr; false means the queue was full.
func (q *slowQueue) push(p []byte, addr *net.UDPAddr) bool {
	if len(p) > maxPacket {
		return false
	}
	sp := q.pool.Get().(*slowPacket) //nolint:forcetypeassert // the pool holds only *slowPacket
	sp.n = copy(sp.buf[:], p)
	sp.addr = addr
	select {
	case q.ch <- sp:
		return true
	default:
		q.pool.Put(sp)
		return false
	}
}

// pop waits for the next datagram. idle, when set, runs before it waits.
func (q *slowQueue) pop(p []byte, idle func()) (int, net.Addr, error) {
	var sp *slowPacket
	select {
	case sp = <-q.ch:
	default:
		if idle != nil {
			idle()
		}
		select {
		case sp = <-q.ch:
		case <-q.closed:
			return 0, nil, net.ErrClosed
		}
	}
	n, addr := copy(p, sp.buf[:sp.n]), sp.addr
	sp.addr = nil
	q.pool.Put(sp)
	return n, addr, nil
}

func (q *slowQueue) close() { q.once.Do(func() { close(q.closed) }) }

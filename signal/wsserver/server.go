package wsserver

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/avlink/avlink/signal"
)

// Server is the signaling server: an http.Handler that upgrades requests
// to WebSocket connections and relays messages between the members of a
// room. Mount it on "/" for the clients that dial ws://host:port, or use
// [Server.Handler] for a mux with health and metrics as well.
//
// A plain GET without an upgrade gets a short text answer, as the
// original deployment's Node.js server gave.
//
// A Server runs from [New] until [Server.Close] or [Server.Shutdown]; it
// does not own the http.Server or listener it is mounted on.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	pool    *bufPool

	mu     sync.Mutex
	rooms  map[string]*room
	peers  map[*peer]struct{}
	closed bool // Shutdown or Close ran: no new connections
	hard   bool // Close ran: connections end at once, without 1001

	wg sync.WaitGroup // handlers and writers

	bus bus // nil: rooms within this process

	// pl watches idle connections' sockets; started on first use, under
	// mu. plFailed: it could not be started (or the server closed), so
	// connections keep a goroutine each.
	pl       *poller
	plFailed bool
}

// New checks cfg and returns a Server ready to serve. An error wraps
// [ErrConfig] when cfg cannot work.
func New(cfg Config) (*Server, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("signal: metrics: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		cfg:     cfg,
		log:     log,
		metrics: m,
		pool:    newBufPool(),
		peers:   map[*peer]struct{}{},
	}
	var nb *natsBus
	if cfg.NATS != nil {
		nb = newNATSBus(cfg.NATS, cfg.NATSPrefix, cfg.heartbeat, s, log)
		s.bus = nb
	}
	def := s.newRoom("")
	s.rooms = map[string]*room{"": def}
	if nb != nil {
		if err := nb.start(); err != nil {
			return nil, err
		}
		def.opening = true
		s.openRoom(def)
	}
	return s, nil
}

// Metrics returns the handler for the server's Prometheus metrics
// (avlink_signal_connections, _rooms, _messages_in_total, ...), in the
// text format. It answers 404 when Config.Registerer is set and is not
// also a prometheus.Gatherer: the metrics are then served by whoever
// gathers that registry.
func (s *Server) Metrics() http.Handler { return s.metrics.handler }

// Health returns a handler that answers 200 "ok" while the server accepts
// connections and 503 once Shutdown or Close has begun, or while its NATS
// connection (Config.NATS) is away: what other servers send its peers
// then is lost, so a load balancer should send clients elsewhere.
func (s *Server) Health() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			http.Error(w, "closed", http.StatusServiceUnavailable)
			return
		}
		if nb, ok := s.bus.(*natsBus); ok && !nb.nc.IsConnected() {
			http.Error(w, "nats: "+nb.nc.Status().String(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
}

// Handler returns a mux with the WebSocket endpoint and a plain-text
// answer on "/", health on "/healthz" and metrics on "/metrics".
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", s)
	mux.Handle("/healthz", s.Health())
	mux.Handle("/metrics", s.Metrics())
	return mux
}

// ServeHTTP upgrades the request to a WebSocket. The connection is then
// served on a goroutine of the server's own, and ServeHTTP returns, so
// that net/http's buffers and the request are not kept for the life of
// the connection; Close and Shutdown wait for it.
//
// The upgrade response carries the header [signal.FeaturesHeader] with
// [signal.FeatureRooms], so a client knows before it joins that joins are
// acknowledged and peers announced.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upgrade") == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "avlink signaling server: connect with a WebSocket")
		return
	}
	accept, err := checkUpgrade(w, r)
	if err != nil {
		s.log.Warn("signal: bad websocket upgrade", "remote", r.RemoteAddr, "err", err)
		return
	}
	if reason, err := s.authorize(r); err != nil {
		s.metrics.refusals.WithLabelValues(reason).Inc()
		s.log.Warn("signal: refused connection", "remote", r.RemoteAddr, "reason", reason, "err", err)
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	id := newID()
	p := &peer{id: id, conn: id, srv: s}
	// The peer joins the default room before its client sees the 101: a
	// message sent to it at once is queued until it is attached, not lost.
	if closed, ok := s.addPeer(p); !ok {
		s.metrics.refusals.WithLabelValues("capacity").Inc()
		if !closed {
			s.log.Warn("signal: refused connection, server full", "remote", r.RemoteAddr)
		}
		http.Error(w, "server full or closing", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done() // added by addPeer

	bc, err := hijack(w, accept, http.Header{signal.FeaturesHeader: {signal.FeatureRooms}}, s.pool)
	if err != nil {
		s.removePeer(p, false)
		p.markClosed()
		s.log.Warn("signal: upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	p.attach(bc)
	s.mu.Lock()
	closed, hard := s.closed, s.hard
	s.mu.Unlock()
	switch {
	case hard:
		// Close ran before the peer had a connection to close.
		s.kill(p)
	case closed:
		// Shutdown ran before the peer had a connection to interrupt;
		// its reader says goodbye, so it is not parked.
		p.bc.interrupt()
		s.takeOver(p)
	}
	s.wg.Add(1)
	s.serve(p, r.RemoteAddr)
}

// serve starts serving p: it parks the new connection in the poller
// until the client says something, or else starts its reader.
func (s *Server) serve(p *peer, remote string) {
	perSec, burst := s.cfg.rate()
	if perSec > 0 {
		p.lim = rate.NewLimiter(rate.Limit(perSec), burst)
	}
	p.remote = remote
	p.ping = s.startKeepalive(p)
	if !p.bc.idle() || !s.park(p) {
		go s.run(p)
	}
}

// run reads messages from p until its connection ends. Once it has
// handled something and would have to wait, it parks the connection in
// the poller and returns, so that an idle connection keeps no goroutine;
// the poller starts run again when the socket has something. Where there
// is no poller it hands over to a new goroutine instead: handling a
// message grows a goroutine's stack, and a stack shrinks only so far, so
// the new goroutine's small stack is what an idle connection keeps.
func (s *Server) run(p *peer) {
	handled := false
	for {
		if handled && p.bc.idle() {
			if !s.park(p) {
				go s.run(p)
			}
			return
		}
		err := p.bc.await()
		if err == nil {
			err = s.next(p, p.lim)
		}
		if err != nil {
			s.finish(p, err)
			return
		}
		handled = true
	}
}

// poller returns the server's poller, starting it on first use; nil
// where there is none or the server is closing.
func (s *Server) poller() *poller {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.plFailed {
		return nil
	}
	if s.pl == nil {
		pl, err := newPoller(s.ready)
		if err != nil {
			s.plFailed = true
			s.log.Debug("signal: idle connections keep a goroutine each", "why", err)
			return nil
		}
		s.pl = pl
	}
	return s.pl
}

// park hands p's idle connection to the poller. It reports false when it
// did not (no poller, not a socket, or p is being ended): the caller
// reads on.
func (s *Server) park(p *peer) bool {
	if p.bc.fd < 0 {
		return false
	}
	pl := s.poller()
	if pl == nil {
		return false
	}
	p.pmu.Lock()
	defer p.pmu.Unlock()
	if p.killed || pl.add(p.bc.fd, p) != nil {
		return false
	}
	p.parked = pl
	return true
}

// ready is the poller's: p's socket has something to read.
func (s *Server) ready(p *peer) {
	p.pmu.Lock()
	parked := p.parked != nil
	p.parked = nil
	p.pmu.Unlock()
	if parked {
		go s.run(p)
	}
}

// takeOver keeps p from being parked again and takes it out of the
// poller; it reports whether it was parked there, in which case no
// goroutine reads p and the caller must start one. It takes no server
// lock: a peer is ended from paths that hold s.mu.
func (s *Server) takeOver(p *peer) bool {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	p.killed = true
	pl := p.parked
	if pl == nil {
		return false
	}
	p.parked = nil
	pl.remove(p.bc.fd)
	return true
}

// kill ends p's connection at once, from any goroutine: its socket is
// closed, and its reader, started if p was parked, cleans up.
func (s *Server) kill(p *peer) {
	parked := s.takeOver(p)
	_ = p.bc.Conn.Close()
	if parked {
		go s.run(p)
	}
}

// finish removes p after its connection ended with err.
func (s *Server) finish(p *peer, err error) {
	// Closed first, so that a ping in flight ends and ping.stop, which
	// waits for it, returns at once.
	p.bc.end(err)
	p.ping.stop()
	s.removePeer(p, true)
	p.markClosed()
	if closeStatus(err) == statusMessageTooBig {
		s.metrics.refusals.WithLabelValues("too-big").Inc()
		s.log.Warn("signal: message too big, connection closed with 1009", "peer", p.id, "limit", s.cfg.maxMessageBytes())
	}
	s.log.Info("signal: disconnected", "peer", p.id, "remote", p.remote,
		"status", closeStatus(err), "connections", s.count())
	s.wg.Done()
}

// next reads and handles one message. A control frame that leaves
// nothing else to read is not an error: next returns nil to wait again.
func (s *Server) next(p *peer, lim *rate.Limiter) error {
	op, buf, err := p.bc.readMessage(s.cfg.maxMessageBytes())
	if err != nil || buf == nil {
		return err
	}
	s.metrics.messagesIn.Inc()
	switch {
	case op != opText:
		s.refuse(p, signal.CodeInvalidJSON, "binary frames are not accepted")
	case lim != nil && !lim.Allow():
		s.refuseRate(p)
	default:
		s.handle(p, *buf)
	}
	s.pool.put(buf)
	return nil
}

// keepalive pings p every PingInterval from a timer, without a goroutine
// of its own between pings. A peer that has not answered a ping by the
// next one is closed. Its stop ends the pings and waits for one in
// flight. All of it is one object besides the timer, as every idle
// connection keeps one.
type keepalive struct {
	s  *Server
	p  *peer
	iv time.Duration
	t  *time.Timer

	mu       sync.Mutex
	stopped  bool
	pinged   bool // a ping is out
	inflight sync.WaitGroup
}

// startKeepalive starts pinging p, or returns nil when pings are off.
func (s *Server) startKeepalive(p *peer) *keepalive {
	iv := s.cfg.pingInterval()
	if iv == 0 {
		return nil
	}
	k := &keepalive{s: s, p: p, iv: iv}
	k.mu.Lock() // t is set before the first tick reads it
	k.t = time.AfterFunc(iv, k.tick)
	k.mu.Unlock()
	return k
}

func (k *keepalive) tick() {
	k.mu.Lock()
	if k.stopped {
		k.mu.Unlock()
		return
	}
	k.inflight.Add(1)
	unanswered := k.pinged && !k.p.bc.pong.Load()
	k.pinged = true
	k.mu.Unlock()
	defer k.inflight.Done()
	if unanswered {
		k.s.log.Info("signal: peer did not answer ping, disconnecting", "conn", k.p.conn, "interval", k.iv)
		k.s.kill(k.p)
		return
	}
	k.p.bc.pong.Store(false)
	if err := k.p.bc.writeControl(opPing, nil); err != nil {
		return // the connection is ending
	}
	k.mu.Lock()
	if !k.stopped {
		k.t.Reset(k.iv)
	}
	k.mu.Unlock()
}

// stop ends the pings and waits for one in flight; nil is stopped.
func (k *keepalive) stop() {
	if k == nil {
		return
	}
	k.mu.Lock()
	k.stopped = true
	k.t.Stop()
	k.mu.Unlock()
	k.inflight.Wait()
}

// Shutdown stops the server gracefully: it refuses new connections,
// closes every connection with status 1001 (going away), so that clients
// reconnect elsewhere or later without telling their peers anyone left,
// and waits for the server's goroutines to end. If ctx is done first it
// closes what is left as [Server.Close] does and returns ctx.Err().
//
// Shutdown does not close the http.Server the handler is mounted on: call
// its Shutdown (or Close) as well. It may be called more than once, and
// with Close.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	peers := s.snapshotLocked()
	s.mu.Unlock()
	for _, p := range peers {
		// The peer's reader closes it with 1001 (going away). A peer
		// still upgrading finds the server closed once attached.
		if bc := p.connection(); bc != nil {
			bc.interrupt()
			if s.takeOver(p) {
				go s.run(p) // it finds the interruption and says goodbye
			}
		}
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.closeBus()
		return nil
	case <-ctx.Done():
		_ = s.Close()
		<-done
		return ctx.Err()
	}
}

// closeBus leaves the other servers, without a word: they announce this
// one's peers as left unless the peers come back elsewhere first.
func (s *Server) closeBus() {
	s.mu.Lock()
	pl := s.pl
	s.pl, s.plFailed = nil, true // no more parking
	s.mu.Unlock()
	if pl != nil {
		pl.close()
	}
	if s.bus == nil {
		return
	}
	s.bus.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rooms {
		if r.unsub != nil {
			r.unsub()
			r.unsub = nil
		}
	}
}

// Close stops the server at once: it refuses new connections, drops
// every open one without a close handshake, and returns once the server's
// goroutines have ended. Clients see their connection fail and reconnect.
// Use [Server.Shutdown] to say goodbye first. Close does not close the
// http.Server the handler is mounted on. It may be called more than once;
// it always returns nil.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed, s.hard = true, true
	peers := s.snapshotLocked()
	s.mu.Unlock()
	for _, p := range peers {
		// The socket itself, even in a close handshake under way
		// (Shutdown's). The peer's reader then fails and cleans up. A
		// peer still upgrading finds the server closed once attached.
		if p.connection() != nil {
			s.kill(p)
		}
	}
	s.wg.Wait()
	s.closeBus()
	return nil
}

// snapshotLocked lists the connected peers. Called with s.mu held.
func (s *Server) snapshotLocked() []*peer {
	peers := make([]*peer, 0, len(s.peers))
	for p := range s.peers {
		peers = append(peers, p)
	}
	return peers
}

func (s *Server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.peers)
}

// newID returns a time-based base-36 id like the original deployment's
// Node.js server gave, with random bits so that ids stay unique across
// servers and instants.
func newID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatInt(time.Now().UnixMilli(), 36) + strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[:])), 36)
}

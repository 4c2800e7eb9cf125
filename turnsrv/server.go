package turnsrv

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/turn/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is a running STUN/TURN server: New starts it and Close stops it.
// Its methods may be called from any goroutine.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	auth    *authenticator
	filter  peerFilter
	quotas  *quotas
	// bindKeys turns pion's 401 to a refused ChannelBind into a 403.
	bindKeys *bindKeys
	relay    *relayAllocator
	tlsConf  *tls.Config

	// turn, addrs, httpSrv and streams are set by New and not changed
	// after it returns.
	turn    *turn.Server
	addrs   Addrs
	httpSrv *http.Server
	streams []*trackingListener
	wg      sync.WaitGroup

	mu     sync.Mutex
	closed bool

	// writers are the client-facing sockets' batch writers, set before
	// pion starts and read by relay readers (flushClientWrites).
	writers atomic.Pointer[[]*mmsgWriter]
	// rxSlots is the batch memory relay readers borrow while they hand
	// out a batch.
	rxSlots *sync.Pool
	// dp, when set (Linux, real network), reads every UDP socket and
	// relays ChannelData itself, using fast, which pion's events keep;
	// slowPool holds the datagrams it hands to pion.
	dp       *dataPlane
	fast     *fastTable
	slowPool *sync.Pool
}

// Addrs lists the addresses a Server listens on, which is how a caller
// learns the ports the system chose with Config.AnyPort.
type Addrs struct {
	// UDP, TCP and TLS hold one address per listening IP for each
	// listener that is on (see Config.NoUDP, NoTCP, NoTLS), in the order
	// of Config.ListeningIPs.
	UDP, TCP, TLS []net.Addr
	// HTTP is the metrics and health address, nil when not configured.
	HTTP net.Addr
}

// New checks cfg, binds every listener and returns a Server that is
// serving. A Config that cannot work gives an error wrapping ErrConfig;
// a port already in use gives the system's error. Stop the Server with
// Close.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, filter: newPeerFilter(cfg), quotas: newQuotas(cfg), bindKeys: newBindKeys(),
		rxSlots: newSlotPool(), fast: newFastTable(), slowPool: newSlowPool()}
	s.metrics = newMetrics(s.quotas.active)
	s.auth = newAuthenticator(cfg, s.metrics)
	if cfg.tlsEnabled() {
		certs := cfg.Certificates
		if len(certs) == 0 {
			cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrConfig, err)
			}
			certs = []tls.Certificate{cert}
		}
		s.tlsConf = &tls.Config{Certificates: certs, MinVersion: tls.VersionTLS12}
	}
	s.relay, err = s.newRelayAllocator()
	if err != nil {
		return nil, err
	}
	if err := s.start(); err != nil {
		s.relay.close()
		return nil, err
	}
	return s, nil
}

// newRelayAllocator resolves relay and external addresses.
func (s *Server) newRelayAllocator() (*relayAllocator, error) {
	cfg := s.cfg
	r := &relayAllocator{
		net: cfg.Net, tcpNet: cfg.Net, min: cfg.MinPort, max: cfg.MaxPort, bufSize: min(cfg.socketBuffer(), 1<<20),
		filter: s.filter, wrap: s.wrapRelay, log: s.log, public: map[netip.Addr]netip.Addr{}, held: map[heldKey]*heldConn{},
	}
	if r.tcpNet == nil {
		n, err := stdnet.NewNet()
		if err != nil {
			return nil, fmt.Errorf("turnsrv: network: %w", err)
		}
		r.tcpNet = n
	}
	for _, e := range cfg.ExternalIPs {
		priv := e.Private
		if !priv.IsValid() {
			priv = netip.IPv4Unspecified()
			if e.Public.Is6() {
				priv = netip.IPv6Unspecified()
			}
		}
		r.public[priv.Unmap()] = e.Public.Unmap()
	}
	candidates := cfg.RelayIPs
	if len(candidates) == 0 {
		for _, e := range cfg.ExternalIPs {
			if e.Private.IsValid() {
				candidates = append(candidates, e.Private)
			}
		}
		candidates = append(candidates, cfg.ListeningIPs...)
	}
	for _, ip := range candidates {
		ip = ip.Unmap()
		if ip.IsUnspecified() {
			ip = s.interfaceAddr(ip.Is4())
		}
		switch {
		case ip.Is4() && !r.v4.IsValid():
			r.v4 = ip
		case ip.Is6() && !r.v6.IsValid():
			r.v6 = ip
		}
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return r, nil
}

// interfaceAddr picks the first global unicast interface address of a
// family, or loopback when there is none.
func (s *Server) interfaceAddr(v4 bool) netip.Addr {
	var addrs []net.Addr
	if s.cfg.Net != nil {
		if ifs, err := s.cfg.Net.Interfaces(); err == nil {
			for _, i := range ifs {
				a, _ := i.Addrs()
				addrs = append(addrs, a...)
			}
		}
	} else {
		addrs, _ = net.InterfaceAddrs()
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			ip := p.Addr().Unmap()
			if ip.Is4() == v4 && ip.IsGlobalUnicast() {
				return ip
			}
		}
	}
	if v4 {
		return netip.MustParseAddr("127.0.0.1")
	}
	return netip.IPv6Loopback()
}

// start opens the listeners and starts serving; on an error nothing of
// it is left open or running.
func (s *Server) start() error {
	if s.cfg.Net == nil {
		dp, err := newDataPlane(s.fast, s.metrics, s.flushClientWrites, s.log)
		if err != nil {
			s.log.Debug("turn data plane unavailable; pion reads every socket", "error", err)
		}
		s.dp = dp
	}
	srvCfg, closers, err := s.listen()
	if err == nil {
		s.turn, err = turn.NewServer(srvCfg)
		if err != nil {
			err = fmt.Errorf("turnsrv: %w", err)
		}
	}
	if err != nil {
		for _, c := range closers {
			_ = c()
		}
		if s.dp != nil {
			s.dp.close()
		}
		return err
	}
	if err := s.startHTTP(); err != nil {
		_ = s.Close()
		return err
	}
	s.log.Info("turn server listening", "udp", s.addrs.UDP, "tcp", s.addrs.TCP, "tls", s.addrs.TLS,
		"relay_v4", s.relay.v4.String(), "realm", s.cfg.Realm, "readers_per_udp_port", s.cfg.UDPReaders)
	return nil
}

// listen opens every listening socket and builds pion's configuration.
// It returns closers for what it opened so a failure can undo it.
func (s *Server) listen() (turn.ServerConfig, []func() error, error) {
	cfg := s.cfg
	var closers []func() error
	srv := turn.ServerConfig{
		LoggerFactory:      pionLogs{s.log},
		Realm:              cfg.Realm,
		AuthHandler:        s.authenticate,
		QuotaHandler:       s.checkQuota,
		EventHandler:       s.events(),
		AllocationLifetime: cfg.AllocationLifetime,
		PermissionTimeout:  cfg.PermissionLifetime,
		ChannelBindTimeout: cfg.ChannelLifetime,
	}
	// With AnyPort, withDefaults left both ports zero: the system chooses.
	port := strconv.Itoa
	for _, ip := range cfg.ListeningIPs {
		if !cfg.NoUDP {
			addr := net.JoinHostPort(ip.String(), port(cfg.ListeningPort))
			pc, err := s.listenUDP(addr)
			if err != nil {
				return srv, closers, fmt.Errorf("turnsrv: %w", err)
			}
			closers = append(closers, pc.Close)
			s.addrs.UDP = append(s.addrs.UDP, pc.LocalAddr())
			srv.PacketConnConfigs = append(srv.PacketConnConfigs, turn.PacketConnConfig{
				PacketConn: pc, RelayAddressGenerator: s.relay, PermissionHandler: s.permission,
			})
		}
		tcp := func(p int, tlsConf *tls.Config) error {
			addr := net.JoinHostPort(ip.String(), port(p))
			ln, err := s.listenTCP(addr)
			if err != nil {
				return fmt.Errorf("turnsrv: listen tcp %s: %w", addr, err)
			}
			tracked := &trackingListener{Listener: ln, conns: map[*trackedConn]struct{}{}}
			closers = append(closers, ln.Close, tracked.closeConns)
			s.streams = append(s.streams, tracked)
			ln = tracked
			if tlsConf != nil {
				s.addrs.TLS = append(s.addrs.TLS, ln.Addr())
				ln = tls.NewListener(ln, tlsConf)
			} else {
				s.addrs.TCP = append(s.addrs.TCP, ln.Addr())
			}
			ln = outListener{ln, s.outgoing}
			srv.ListenerConfigs = append(srv.ListenerConfigs, turn.ListenerConfig{
				Listener: ln, RelayAddressGenerator: s.relay, PermissionHandler: s.permission,
			})
			return nil
		}
		if !cfg.NoTCP {
			if err := tcp(cfg.ListeningPort, nil); err != nil {
				return srv, closers, err
			}
		}
		if s.tlsConf != nil {
			if err := tcp(cfg.TLSListeningPort, s.tlsConf); err != nil {
				return srv, closers, err
			}
		}
	}
	return srv, closers, nil
}

func (s *Server) listenUDP(addr string) (net.PacketConn, error) {
	if s.cfg.Net == nil {
		f, err := listenUDPFanIn(addr, s.cfg.UDPReaders, s.cfg.SocketBuffer, s.outgoing, s.log)
		if err != nil {
			return nil, err
		}
		if s.dp != nil {
			f.useDataPlane(s.dp, s.slowPool)
			s.fast.addListener(f)
		}
		ws := []*mmsgWriter{}
		if old := s.writers.Load(); old != nil {
			ws = append(ws, *old...)
		}
		for _, w := range f.tx {
			if w != nil {
				ws = append(ws, w)
			}
		}
		s.writers.Store(&ws)
		return f, nil
	}
	pc, err := s.cfg.Net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	return outPacketConn{pc, s.outgoing}, nil
}

// outgoing prepares a STUN message the server sends to client: it
// corrects pion's answer to a refused ChannelBind (see bindKeys) and adds
// FINGERPRINT when Config.Fingerprint asks for it. ChannelData and other
// messages pass unchanged.
func (s *Server) outgoing(p []byte, client net.Addr) []byte {
	p = s.bindKeys.fix(p, client)
	if s.cfg.Fingerprint {
		p = withFingerprint(p)
	}
	return p
}

func (s *Server) listenTCP(addr string) (net.Listener, error) {
	if s.cfg.Net == nil {
		return net.Listen("tcp", addr) //nolint:noctx // bound once at start
	}
	a, err := s.cfg.Net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, err
	}
	return s.cfg.Net.ListenTCP("tcp", a)
}

// events hooks allocation lifecycle into quotas, metrics and logs.
func (s *Server) events() turn.EventHandler {
	return turn.EventHandler{
		OnAuth: s.auth.onAuth,
		OnAllocationCreated: func(src, dst net.Addr, proto, userID, _ string, relay net.Addr, _ int) {
			s.fast.allocated(src, dst, proto, relay)
			n := s.quotas.add(userID, 1)
			s.metrics.allocations.Inc()
			s.log.Info("turn allocation created", "client", src.String(), "transport", s.clientTransport(src, dst),
				"user", userID, "relay", relay.String(), "active", n)
		},
		OnAllocationDeleted: func(src, dst net.Addr, _, userID, _ string) {
			n := s.quotas.add(userID, -1)
			s.log.Info("turn allocation deleted", "client", src.String(), "transport", s.clientTransport(src, dst),
				"user", userID, "active", n)
		},
		OnAllocationError: func(src, _ net.Addr, _, message string) {
			s.log.Debug("turn request failed", "client", src.String(), "error", message)
		},
		OnChannelCreated: func(src, _ net.Addr, _, _, _ string, relay, peer net.Addr, num uint16) {
			s.fast.channelCreated(src, relay, peer, num)
		},
		OnChannelDeleted: func(src, _ net.Addr, _, _, _ string, relay, peer net.Addr, num uint16) {
			s.fast.channelDeleted(src, relay, peer, num)
		},
	}
}

// clientTransport names the transport a client reaches the server over:
// "udp", "tcp" or "tls". pion's events cannot say: they name the five-
// tuple's protocol, which pion sets to UDP for every client. A stream
// client's local address (dst) is that of the listener that accepted it,
// which tells TCP from TLS.
func (s *Server) clientTransport(src, dst net.Addr) string {
	if _, ok := src.(*net.TCPAddr); !ok {
		return "udp"
	}
	local, ok := dst.(*net.TCPAddr)
	if !ok || len(s.addrs.TLS) == 0 {
		return "tcp"
	}
	ap := local.AddrPort()
	ip := ap.Addr().Unmap()
	// A listener on the very address decides; else one on the port's
	// wildcard address (0.0.0.0, or :: which takes both families).
	on := func(addrs []net.Addr, wildcard bool) bool {
		for _, a := range addrs {
			t, ok := a.(*net.TCPAddr)
			if !ok || t.Port != int(ap.Port()) {
				continue
			}
			lip := t.AddrPort().Addr().Unmap()
			if !wildcard && lip == ip || wildcard && lip.IsUnspecified() && (lip.Is6() || ip.Is4()) {
				return true
			}
		}
		return false
	}
	switch {
	case on(s.addrs.TLS, false):
		return "tls"
	case on(s.addrs.TCP, false):
		return "tcp"
	case on(s.addrs.TLS, true):
		return "tls"
	}
	return "tcp"
}

// startHTTP serves /metrics and /healthz when HTTPAddr is set.
func (s *Server) startHTTP() error {
	if s.cfg.HTTPAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.HTTPAddr) //nolint:noctx // bound once at start
	if err != nil {
		return fmt.Errorf("turnsrv: listen http %s: %w", s.cfg.HTTPAddr, err)
	}
	s.addrs.HTTP = ln.Addr()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			http.Error(w, "closed", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	s.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("turn metrics server stopped", "error", err)
		}
	}()
	return nil
}

// Addrs returns the listening addresses. They stay the same after Close.
func (s *Server) Addrs() Addrs { return s.addrs }

// Registry returns the server's own Prometheus registry, for serving its
// metrics from an existing HTTP server or adding them to another gatherer.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// ActiveAllocations reports how many allocations are alive.
func (s *Server) ActiveAllocations() int { return s.quotas.active() }

// Close stops the server at once: it closes the listeners, every
// client's TCP and TLS connection, every allocation and reserved relay
// port, and the HTTP server, and waits for the server's goroutines to end.
// Clients are not told; their allocations simply stop working, as when a
// coturn process ends. Close may be called more than once and from any
// goroutine; later calls return nil.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	var errs []error
	errs = append(errs, s.turn.Close())
	for _, l := range s.streams {
		_ = l.closeConns()
	}
	// pion closes allocations from its read loops once the listeners are
	// closed, and each allocation's relay goroutine then deletes it; wait
	// (boundedly, in case a client socket is stuck) so that no relay
	// goroutine outlives Close.
	for i := 0; i < 200 && s.turn.AllocationCount() > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if s.httpSrv != nil {
		errs = append(errs, s.httpSrv.Close())
	}
	s.relay.close()
	if s.dp != nil {
		s.dp.close()
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

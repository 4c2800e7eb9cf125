package turnsrv

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestConfigErrors checks that New refuses settings that cannot work with
// an error wrapping ErrConfig, before binding anything.
func TestConfigErrors(t *testing.T) {
	loopback := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	for name, cfg := range map[string]Config{
		"negative port":           {ListeningPort: -1},
		"port too high":           {TLSListeningPort: 70000},
		"AnyPort with a port":     {AnyPort: true, ListeningPort: 3478},
		"AnyPort with a TLS port": {AnyPort: true, TLSListeningPort: 5349},
		"port range reversed":     {MinPort: 50000, MaxPort: 40000},
		"port range too high":     {MaxPort: 70000},
		"max below default min":   {MaxPort: 1000},
		"cert without key":        {CertFile: "cert.pem"},
		"missing cert files":      {CertFile: "testdata/none.pem", KeyFile: "testdata/none.key"},
		"no listener":             {NoUDP: true, NoTCP: true},
		"negative user quota":     {UserQuota: -1},
		"negative bandwidth":      {MaxBPS: -1},
		"negative auth failures":  {AuthFailures: -1},
		"negative socket buffer":  {SocketBuffer: -1},
		"negative readers":        {UDPReaders: -1},
		"negative lifetime":       {PermissionLifetime: -time.Second},
		"invalid listening IP":    {ListeningIPs: []netip.Addr{{}}},
		"external IP families":    {ExternalIPs: []ExternalIP{{Public: netip.MustParseAddr("203.0.113.1"), Private: netip.MustParseAddr("fd00::1")}}},
	} {
		t.Run(name, func(t *testing.T) {
			if len(cfg.ListeningIPs) == 0 {
				cfg.ListeningIPs = loopback
			}
			cfg.Logger = slog.New(slog.DiscardHandler)
			s, err := New(cfg)
			if err == nil {
				_ = s.Close()
				t.Fatal("New accepted the configuration")
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("New: %v, want an error wrapping ErrConfig", err)
			}
		})
	}
}

// TestNewPortInUse checks that a listener that cannot bind fails New with
// the system's error and leaves nothing open: the UDP socket bound before
// the TCP listener failed is released.
func TestNewPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = taken.Close() }()
	port := taken.Addr().(*net.TCPAddr).Port //nolint:forcetypeassert // tcp4
	_, err = New(Config{
		ListeningIPs:  []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		ListeningPort: port,
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err == nil || errors.Is(err, ErrConfig) {
		t.Fatalf("New on a port in use: %v, want the system's bind error", err)
	}
	u, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("the failed New kept UDP port %d: %v", port, err)
	}
	_ = u.Close()
}

// TestCloseStopsAtOnce closes a server with a live allocation, a TCP
// client and an HTTP listener, from several goroutines at once, and checks
// that everything is released by the time Close returns.
func TestCloseStopsAtOnce(t *testing.T) {
	s, _ := startServer(t, func(c *Config) {
		c.AllowLoopbackPeers = true
		c.HTTPAddr = "127.0.0.1:0"
	})
	a := s.Addrs()
	relay, err := newUDPClient(t, a.UDP[0], testUser, testPass).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = relay.Close() }()
	tcp, err := net.Dial("tcp", a.TCP[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tcp.Close() }()
	if s.ActiveAllocations() != 1 {
		t.Fatalf("%d allocations before Close, want 1", s.ActiveAllocations())
	}

	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = s.Close() })
	}
	wg.Wait()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	for _, err := range errs {
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
	if n := s.ActiveAllocations(); n != 0 {
		t.Errorf("%d allocations after Close", n)
	}
	_ = tcp.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := tcp.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Errorf("TCP client read after Close: %v, want the connection closed", err)
	}
	if resp, err := http.Get("http://" + a.HTTP.String() + "/healthz"); err == nil { //nolint:noctx // test
		_ = resp.Body.Close()
		t.Errorf("HTTP server still answers after Close: %s", resp.Status)
	}
	for _, addr := range []string{a.UDP[0].String(), a.TCP[0].String()} {
		var err error
		if addr == a.UDP[0].String() {
			var c net.PacketConn
			if c, err = net.ListenPacket("udp4", addr); err == nil {
				_ = c.Close()
			}
		} else {
			var l net.Listener
			if l, err = net.Listen("tcp4", addr); err == nil {
				_ = l.Close()
			}
		}
		if err != nil {
			t.Errorf("listening address %s still bound after Close: %v", addr, err)
		}
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// TestNoAuthRateLimit checks that failures past AuthFailures are not
// refused when the limit is turned off.
func TestNoAuthRateLimit(t *testing.T) {
	s, _ := startServer(t, func(c *Config) { c.AuthFailures = 1; c.NoAuthRateLimit = true })
	addr := s.Addrs().UDP[0]
	for range 3 {
		if _, err := newUDPClient(t, addr, testUser, "wrong").Allocate(); stunCode(err) != 401 {
			t.Fatalf("wrong password = %v, want 401", err)
		}
	}
	relay, err := newUDPClient(t, addr, testUser, testPass).Allocate()
	if err != nil {
		t.Fatalf("Allocate after failures with no rate limit: %v", err)
	}
	_ = relay.Close()
	if got := counterValue(s.metrics.authFailures); got < 3 {
		t.Fatalf("auth failures counted: %v, want 3", got)
	}
}

// TestSystemSocketBuffers relays with the kernel's default buffer sizes.
func TestSystemSocketBuffers(t *testing.T) {
	s, _ := startServer(t, func(c *Config) {
		c.AllowLoopbackPeers = true
		c.UDPReaders = 1
		c.SystemSocketBuffers = true
	})
	relay, err := newUDPClient(t, s.Addrs().UDP[0], testUser, testPass).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = relay.Close() }()
	roundTrip(t, relay, udpPeer(t), 5)
}

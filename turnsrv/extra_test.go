package turnsrv

import (
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/turn/v5"
)

func TestHTTPMetricsAndHealth(t *testing.T) {
	s, _ := startServer(t, func(c *Config) { c.HTTPAddr = "127.0.0.1:0" })
	base := "http://" + s.Addrs().HTTP.String()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path) //nolint:noctx // test
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	_, body := get("/metrics")
	for _, name := range []string{
		"turnsrv_allocations_active", "turnsrv_relayed_packets_total", "turnsrv_auth_failures_total",
		`turnsrv_refusals_total{reason="peer_denied"}`,
	} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

func TestExternalIPMapping(t *testing.T) {
	public := netip.MustParseAddr("203.0.113.10")
	s, _ := startServer(t, func(c *Config) {
		c.RelayIPs = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		c.ExternalIPs = []ExternalIP{{Public: public, Private: netip.MustParseAddr("127.0.0.1")}}
		c.MinPort, c.MaxPort = 40000, 40099
	})
	got := rawAllocate(t, s.Addrs().UDP[0], testUser, testPass, nil)
	if got.code != 0 {
		t.Fatalf("Allocate: %d", got.code)
	}
	if !got.relay.IP.Equal(public.AsSlice()) || got.relay.Port < 40000 || got.relay.Port > 40099 {
		t.Fatalf("relayed address %s, want %s with a port in 40000-40099", got.relay, public)
	}
}

func TestBandwidthCap(t *testing.T) {
	s, _ := startServer(t, func(c *Config) { c.AllowLoopbackPeers = true; c.MaxBPS = 8000 })
	c := newUDPClient(t, s.Addrs().UDP[0], testUser, testPass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = relay.Close() }()
	peer := udpPeer(t)
	msg := make([]byte, 1000)
	for range 100 {
		if _, err := relay.WriteTo(msg, peer.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	// Count what arrives; the cap lets about the 8,000-byte burst through.
	got := 0
	buf := make([]byte, 1500)
	for {
		_ = peer.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if _, _, err := peer.ReadFrom(buf); err != nil {
			break
		}
		got++
	}
	if got == 0 || got >= 50 {
		t.Fatalf("peer received %d of 100 kB-sized packets under an 8,000 B/s cap", got)
	}
	if s.metrics.bandwidthDrops.Load() == 0 {
		t.Fatal("no bandwidth drops counted")
	}
}

// TestVirtualNetwork runs the server, a client and a peer on a
// pion/transport virtual network: public addresses, no loopback allowance.
func TestVirtualNetwork(t *testing.T) {
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "198.51.100.0/24", LoggerFactory: lf})
	if err != nil {
		t.Fatal(err)
	}
	node := func(ip string) *vnet.Net {
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			t.Fatal(err)
		}
		if err := router.AddNet(n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	srvNet, cliNet, peerNet := node("198.51.100.1"), node("198.51.100.2"), node("198.51.100.3")
	if err := router.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = router.Stop() }()

	s, err := New(Config{
		ListeningIPs:     []netip.Addr{netip.MustParseAddr("198.51.100.1")},
		Users:            map[string]string{testUser: testPass},
		AllowedPeers:     []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
		Net:              srvNet,
		NoTCP:            true,
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		TLSListeningPort: 5349,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()

	conn, err := cliNet.ListenPacket("udp4", "198.51.100.2:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: "198.51.100.1:3478", TURNServerAddr: "198.51.100.1:3478",
		Conn: conn, Username: testUser, Password: testPass, Net: cliNet, LoggerFactory: lf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Close(); _ = conn.Close() }()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("Allocate on vnet: %v", err)
	}
	defer func() { _ = relay.Close() }()
	if !strings.HasPrefix(relay.LocalAddr().String(), "198.51.100.1:") {
		t.Fatalf("relay address %s", relay.LocalAddr())
	}
	peer, err := peerNet.ListenPacket("udp4", "198.51.100.3:5000")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = peer.Close() }()
	if _, err := relay.WriteTo([]byte("over vnet"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "over vnet" {
		t.Fatalf("peer read %q, %v", buf[:n], err)
	}
	if _, err := peer.WriteTo([]byte("back"), from); err != nil {
		t.Fatal(err)
	}
	_ = relay.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err = relay.ReadFrom(buf); err != nil || string(buf[:n]) != "back" {
		t.Fatalf("client read %q, %v", buf[:n], err)
	}
}

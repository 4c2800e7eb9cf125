package turnsrv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

func TestSTUNBinding(t *testing.T) {
	s, _ := startServer(t, nil)
	c := newUDPClient(t, s.Addrs().UDP[0], testUser, testPass)
	mapped, err := c.SendBindingRequest()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mapped.String(), "127.0.0.1:") {
		t.Fatalf("mapped address %s", mapped)
	}
}

func TestRelayRoundTripUDP(t *testing.T) {
	s, logs := startServer(t, func(c *Config) { c.AllowLoopbackPeers = true })
	c := newUDPClient(t, s.Addrs().UDP[0], testUser, testPass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	defer func() { _ = relay.Close() }()
	if got := s.ActiveAllocations(); got != 1 {
		t.Fatalf("ActiveAllocations = %d, want 1", got)
	}
	// The first exchange goes by Send/Data indications; pion's client binds
	// a channel meanwhile, so later ones use ChannelData.
	roundTrip(t, relay, udpPeer(t), 20)

	m := s.metrics
	// The server counts a packet after its send returns, which may be just
	// after the receiver has it: give the counters a moment.
	for i := 0; i < 100 && (m.packetsToPeer.Load() < 20 || m.packetsToClient.Load() < 20); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if m.packetsToPeer.Load() < 20 || m.packetsToClient.Load() < 20 {
		t.Fatalf("relayed packets to peer %d, to client %d", m.packetsToPeer.Load(), m.packetsToClient.Load())
	}
	if got := counterValue(m.allocations); got != 1 {
		t.Fatalf("turnsrv_allocations_total = %v", got)
	}
	if !strings.Contains(logs.String(), "turn allocation created") {
		t.Fatalf("no allocation log line:\n%s", logs)
	}
}

func TestRelayRoundTripTCP(t *testing.T) {
	s, _ := startServer(t, func(c *Config) { c.AllowLoopbackPeers = true })
	conn, err := net.Dial("tcp", s.Addrs().TCP[0].String())
	if err != nil {
		t.Fatal(err)
	}
	c := newClientOn(t, turn.NewSTUNConn(conn), s.Addrs().TCP[0].String(), testUser, testPass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("Allocate over TCP: %v", err)
	}
	defer func() { _ = relay.Close() }()
	roundTrip(t, relay, udpPeer(t), 5)
}

func TestRelayRoundTripTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	s, _ := startServer(t, func(c *Config) {
		c.AllowLoopbackPeers = true
		c.Certificates = []tls.Certificate{cert}
	})
	if len(s.Addrs().TLS) != 1 {
		t.Fatalf("TLS listeners: %v", s.Addrs().TLS)
	}
	conn, err := tls.Dial("tcp", s.Addrs().TLS[0].String(), &tls.Config{RootCAs: pool, ServerName: "turn.test", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	c := newClientOn(t, turn.NewSTUNConn(conn), s.Addrs().TLS[0].String(), testUser, testPass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("Allocate over TLS: %v", err)
	}
	defer func() { _ = relay.Close() }()
	roundTrip(t, relay, udpPeer(t), 5)
}

func TestFingerprintOnResponses(t *testing.T) {
	s, _ := startServer(t, func(c *Config) { c.Fingerprint = true; c.AllowLoopbackPeers = true })
	c := newUDPClient(t, s.Addrs().UDP[0], testUser, testPass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	defer func() { _ = relay.Close() }()
	roundTrip(t, relay, udpPeer(t), 2)
	raw := rawAllocate(t, s.Addrs().UDP[0], testUser, testPass, nil)
	if !raw.resp.Contains(0x8028) {
		t.Fatal("Allocate response has no FINGERPRINT")
	}
}

// selfSigned makes a certificate for "turn.test" and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "turn.test"},
		DNSNames:     []string{"turn.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestAllocationLogTransport checks that the allocation log lines name
// the transport each client came over (pion reports every allocation as
// UDP, the transport of its relay).
func TestAllocationLogTransport(t *testing.T) {
	cert, pool := selfSigned(t)
	s, logs := startServer(t, func(c *Config) { c.Certificates = []tls.Certificate{cert} })
	transports := []string{"udp", "tcp", "tls"}
	for _, tr := range transports {
		c, _ := clientOver(t, s, tr, pool)
		relay, err := c.Allocate()
		if err != nil {
			t.Fatalf("Allocate over %s: %v", tr, err)
		}
		// Closed after the server, which deletes the allocation first.
		defer func() { _ = relay.Close() }()
		// The server logs an allocation before it answers the request.
		created := logLines(logs.String(), "turn allocation created")
		if len(created) == 0 || !strings.Contains(created[len(created)-1], " transport="+tr+" ") {
			t.Fatalf("allocating over %s logged %q", tr, created)
		}
	}
	// Close deletes the allocations, each logged with its transport.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A stream client's allocation may be logged as deleted just after
	// Close returns, when its connection's goroutine sees the close.
	var deleted string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if deleted = strings.Join(logLines(logs.String(), "turn allocation deleted"), "\n"); strings.Count(deleted, "\n") >= len(transports)-1 && deleted != "" {
			break
		}
	}
	for _, tr := range transports {
		if strings.Count(deleted, " transport="+tr+" ") != 1 {
			t.Errorf("deletion lines do not name %s once:\n%s", tr, deleted)
		}
	}
}

// logLines returns the lines of text that contain msg.
func logLines(text, msg string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, msg) {
			out = append(out, l)
		}
	}
	return out
}

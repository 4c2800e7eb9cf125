package turnsrv

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// pion's TURN client (the tests' clients, and pion/ice's inside the
	// WebRTC tests) can start a ChannelBind transaction just after its
	// Close has cleared the transaction map; that transaction then waits
	// out its retransmissions (about 25 s) towards a server that is gone.
	// It is the client's goroutine, not the server's, and it ends by itself.
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/pion/turn/v5/internal/client.(*Transaction).WaitForResult"))
}

const (
	testUser = "robot"
	testPass = "s3cret"
)

// logBuffer collects log output for assertions; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer starts a loopback server on ports the system chooses with one user; mutate adjusts the
// configuration first.
func startServer(t *testing.T, mutate func(*Config)) (*Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg := Config{
		ListeningIPs: []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		AnyPort:      true,
		Users:        map[string]string{testUser: testPass},
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		UDPReaders:   2,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, logs
}

// newUDPClient returns a pion TURN client on a fresh loopback socket.
func newUDPClient(t *testing.T, server net.Addr, user, pass string) *turn.Client {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return newClientOn(t, conn, server.String(), user, pass)
}

func newClientOn(t *testing.T, conn net.PacketConn, server, user, pass string) *turn.Client {
	t.Helper()
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server,
		TURNServerAddr: server,
		Conn:           conn,
		Username:       user,
		Password:       pass,
		RTO:            200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		_ = conn.Close()
	})
	return c
}

// udpPeer is a loopback UDP socket standing for a peer on the internet.
func udpPeer(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roundTrip sends through the relay to the peer and back, n times, and
// checks that the peer sees the relay address as the source.
func roundTrip(t *testing.T, relay net.PacketConn, peer *net.UDPConn, n int) {
	t.Helper()
	buf := make([]byte, 1500)
	for i := range n {
		msg := []byte{'p', 'i', 'n', 'g', byte(i)}
		if _, err := relay.WriteTo(msg, peer.LocalAddr()); err != nil {
			t.Fatalf("relay write %d: %v", i, err)
		}
		_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, from, err := peer.ReadFrom(buf)
		if err != nil {
			t.Fatalf("peer read %d: %v", i, err)
		}
		if !bytes.Equal(buf[:k], msg) {
			t.Fatalf("peer got %q, want %q", buf[:k], msg)
		}
		if from.String() != relay.LocalAddr().String() {
			t.Fatalf("peer saw source %s, want relay %s", from, relay.LocalAddr())
		}
		reply := append([]byte("pong"), byte(i))
		if _, err := peer.WriteTo(reply, from); err != nil {
			t.Fatal(err)
		}
		_ = relay.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, from, err = relay.ReadFrom(buf)
		if err != nil {
			t.Fatalf("relay read %d: %v", i, err)
		}
		if !bytes.Equal(buf[:k], reply) || from.String() != peer.LocalAddr().String() {
			t.Fatalf("client got %q from %s, want %q from %s", buf[:k], from, reply, peer.LocalAddr())
		}
	}
}

// stunCode returns the STUN error code in err, or 0.
func stunCode(err error) int {
	var te *stun.TurnError
	if errors.As(err, &te) {
		return int(te.ErrorCodeAttr.Code)
	}
	return 0
}

// counterValue reads a Prometheus counter.
func counterValue(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

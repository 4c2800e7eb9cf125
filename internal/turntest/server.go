package turntest

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"

	"github.com/avlink/avlink/turnsrv"
	"github.com/pion/webrtc/v4"
)

// Test credentials of the servers this package starts.
const (
	Username = "robot"
	Password = "s3cret"
	Realm    = "avlink.test"
)

// Server is a running turnsrv.Server on 127.0.0.1, on ports the system
// chose, with one user (Username, Password) and loopback peers allowed;
// it is closed when the test ends.
type Server struct {
	*turnsrv.Server
}

// Start starts a Server; mutate, when not nil, adjusts the configuration
// first. The test fails at once if the server cannot start.
func Start(tb testing.TB, mutate func(*turnsrv.Config)) *Server {
	tb.Helper()
	cfg := turnsrv.Config{
		ListeningIPs:       []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		AnyPort:            true,
		Realm:              Realm,
		Users:              map[string]string{Username: Password},
		AllowLoopbackPeers: true,
		Logger:             slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := turnsrv.New(cfg)
	if err != nil {
		tb.Fatalf("turnsrv.New: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return &Server{Server: s}
}

// ICEServers lists the server's UDP and TCP TURN URLs with the test
// credentials, for a webrtc.Configuration.
func (s *Server) ICEServers() []webrtc.ICEServer {
	a := s.Addrs()
	var urls []string
	for _, u := range a.UDP {
		urls = append(urls, "turn:"+u.String()+"?transport=udp")
	}
	for _, t := range a.TCP {
		urls = append(urls, "turn:"+t.String()+"?transport=tcp")
	}
	return []webrtc.ICEServer{{URLs: urls, Username: Username, Credential: Password}}
}

// UDPICEServers is ICEServers limited to TURN over UDP.
func UDPICEServers(addr net.Addr, user, pass string) []webrtc.ICEServer {
	return []webrtc.ICEServer{{
		URLs:     []string{fmt.Sprintf("turn:%s?transport=udp", addr)},
		Username: user, Credential: pass,
	}}
}

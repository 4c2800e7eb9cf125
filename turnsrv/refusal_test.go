package turnsrv

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

func TestPeerRefusals(t *testing.T) {
	cases := []struct {
		name   string
		peer   string
		mutate func(*Config)
		want   int // 0: permitted, else the STUN error code
	}{
		{"loopback by default", "127.0.0.1:9", nil, 403},
		{"loopback allowed", "127.0.0.1:9", func(c *Config) { c.AllowLoopbackPeers = true }, 0},
		{"private by default", "10.1.2.3:9", nil, 403},
		{"private allowed by range", "10.1.2.3:9", func(c *Config) {
			c.AllowedPeers = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}, 0},
		{"link-local", "169.254.1.1:9", nil, 403},
		{"multicast", "224.0.0.1:9", nil, 403},
		{"unspecified", "0.0.0.0:9", nil, 403},
		{"ipv4-mapped loopback", "[::ffff:127.0.0.1]:9", nil, 403},
		{"public", "203.0.113.7:9", nil, 0},
		{"public denied by range", "203.0.113.7:9", func(c *Config) {
			c.DeniedPeers = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
		}, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, logs := startServer(t, tc.mutate)
			c := newUDPClient(t, s.Addrs().UDP[0], testUser, testPass)
			relay, err := c.Allocate()
			if err != nil {
				t.Fatalf("Allocate: %v", err)
			}
			defer func() { _ = relay.Close() }()
			peer, err := net.ResolveUDPAddr("udp", tc.peer)
			if err != nil {
				t.Fatal(err)
			}
			err = c.CreatePermission(peer)
			if got := stunCode(err); got != tc.want {
				t.Fatalf("CreatePermission(%s) = %v (code %d), want code %d", tc.peer, err, got, tc.want)
			}
			refused := counterValue(s.metrics.refusals.WithLabelValues(reasonPeerDenied))
			if (tc.want != 0) != (refused > 0) {
				t.Fatalf("peer_denied refusals = %v", refused)
			}
			if tc.want != 0 && !strings.Contains(logs.String(), "turn peer refused") {
				t.Fatalf("no log line for the refusal:\n%s", logs)
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	s, logs := startServer(t, nil)
	c := newUDPClient(t, s.Addrs().UDP[0], testUser, "wrong")
	_, err := c.Allocate()
	if got := stunCode(err); got != 401 {
		t.Fatalf("Allocate with a wrong password = %v, want 401", err)
	}
	if s.ActiveAllocations() != 0 {
		t.Fatal("an allocation was made")
	}
	if counterValue(s.metrics.authFailures) < 1 || !strings.Contains(logs.String(), "wrong password") {
		t.Fatalf("failure not counted or logged:\n%s", logs)
	}
	// Nothing else is disturbed: the right password still works.
	good := newUDPClient(t, s.Addrs().UDP[0], testUser, testPass)
	relay, err := good.Allocate()
	if err != nil {
		t.Fatalf("Allocate after a failure: %v", err)
	}
	_ = relay.Close()
}

func TestUnknownUser(t *testing.T) {
	s, logs := startServer(t, nil)
	c := newUDPClient(t, s.Addrs().UDP[0], "nobody", testPass)
	if _, err := c.Allocate(); stunCode(err) != 401 {
		t.Fatalf("Allocate for an unknown user = %v, want 401", err)
	}
	if !strings.Contains(logs.String(), "unknown user") {
		t.Fatalf("no log line:\n%s", logs)
	}
}

func TestRESTCredentials(t *testing.T) {
	const secret = "north-secret"
	s, logs := startServer(t, func(c *Config) {
		c.AuthSecrets = []string{secret}
		c.UserQuota = 1
	})
	user, pass := RESTCredentials(secret, "browser", time.Hour, time.Now())
	c := newUDPClient(t, s.Addrs().UDP[0], user, pass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("Allocate with REST credentials: %v", err)
	}
	defer func() { _ = relay.Close() }()

	// The quota counts the user part, across credential renewals.
	user2, pass2 := RESTCredentials(secret, "browser", 2*time.Hour, time.Now())
	c2 := newUDPClient(t, s.Addrs().UDP[0], user2, pass2)
	if _, err := c2.Allocate(); stunCode(err) != 486 {
		t.Fatalf("second allocation of one REST user = %v, want 486", err)
	}

	expiredUser, expiredPass := RESTCredentials(secret, "late", -time.Minute, time.Now())
	c3 := newUDPClient(t, s.Addrs().UDP[0], expiredUser, expiredPass)
	if _, err := c3.Allocate(); stunCode(err) != 401 {
		t.Fatalf("Allocate with an expired credential = %v, want 401", err)
	}
	if !strings.Contains(logs.String(), "expired credential") {
		t.Fatalf("no log line for the expired credential:\n%s", logs)
	}

	forgedUser, _ := RESTCredentials(secret, "mallory", time.Hour, time.Now())
	c4 := newUDPClient(t, s.Addrs().UDP[0], forgedUser, "guess")
	if _, err := c4.Allocate(); stunCode(err) != 401 {
		t.Fatalf("Allocate with a forged password = %v, want 401", err)
	}
	if got := s.ActiveAllocations(); got != 1 {
		t.Fatalf("ActiveAllocations = %d, want 1", got)
	}
}

func TestQuotas(t *testing.T) {
	s, logs := startServer(t, func(c *Config) {
		c.Users["other"] = "pw"
		c.UserQuota = 2
		c.TotalQuota = 3
		c.AllowLoopbackPeers = true
	})
	addr := s.Addrs().UDP[0]
	var relays []net.PacketConn
	for range 2 {
		r, err := newUDPClient(t, addr, testUser, testPass).Allocate()
		if err != nil {
			t.Fatalf("Allocate within quota: %v", err)
		}
		relays = append(relays, r)
	}
	if _, err := newUDPClient(t, addr, testUser, testPass).Allocate(); stunCode(err) != 486 {
		t.Fatalf("third allocation of one user = %v, want 486", err)
	}
	r, err := newUDPClient(t, addr, "other", "pw").Allocate()
	if err != nil {
		t.Fatalf("another user within the total: %v", err)
	}
	relays = append(relays, r)
	if _, err := newUDPClient(t, addr, "other", "pw").Allocate(); stunCode(err) != 486 {
		t.Fatalf("allocation over the total quota = %v, want 486", err)
	}
	if !strings.Contains(logs.String(), reasonUserQuota) || !strings.Contains(logs.String(), reasonTotalQuota) {
		t.Fatalf("refusals not logged:\n%s", logs)
	}
	// Existing allocations keep relaying.
	roundTrip(t, relays[0], udpPeer(t), 3)
	// Freeing one makes room again, once the server has taken the
	// release (the client does not wait for its answer).
	_ = relays[0].Close()
	for try := 0; ; try++ {
		r, err = newUDPClient(t, addr, testUser, testPass).Allocate()
		if err == nil {
			break
		}
		if stunCode(err) != 486 || try == 50 {
			t.Fatalf("Allocate after a release: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	relays = append(relays, r)
	for _, r := range relays[1:] {
		_ = r.Close()
	}
}

func TestAuthFailureRateLimit(t *testing.T) {
	s, logs := startServer(t, func(c *Config) { c.AuthFailures = 2 })
	addr := s.Addrs().UDP[0]
	for range 2 {
		if _, err := newUDPClient(t, addr, testUser, "wrong").Allocate(); stunCode(err) != 401 {
			t.Fatalf("wrong password = %v, want 401", err)
		}
	}
	// The address is now refused without checking, even with the right
	// password.
	if _, err := newUDPClient(t, addr, testUser, testPass).Allocate(); stunCode(err) != 401 {
		t.Fatalf("Allocate from a rate-limited address = %v, want 401", err)
	}
	if got := counterValue(s.metrics.refusals.WithLabelValues(reasonAuthRateLimited)); got < 1 {
		t.Fatalf("auth_rate_limited refusals = %v", got)
	}
	if !strings.Contains(logs.String(), "rate-limited") {
		t.Fatalf("no rate-limit log line:\n%s", logs)
	}
}

// TestRefusedPeerForbidden checks that a peer the filter refuses is
// answered 403 Forbidden, as coturn and RFC 8656 (sections 10.2 and 12.2)
// answer it, to CreatePermission and to ChannelBind alike, over each
// client transport; 401 would tell the client its password is wrong. The
// pion client accepts an error response only when its MESSAGE-INTEGRITY
// checks, so the 403 is also known to be signed with the client's key.
func TestRefusedPeerForbidden(t *testing.T) {
	cert, pool := selfSigned(t)
	s, logs := startServer(t, func(c *Config) { c.Certificates = []tls.Certificate{cert} })
	for _, tr := range []string{"udp", "tcp", "tls"} {
		t.Run(tr, func(t *testing.T) {
			c, server := clientOver(t, s, tr, pool)
			relay, err := c.Allocate()
			if err != nil {
				t.Fatalf("Allocate: %v", err)
			}
			defer func() { _ = relay.Close() }()
			for i, p := range []string{"127.0.0.1:9", "10.0.0.1:9"} {
				peer, err := net.ResolveUDPAddr("udp4", p)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.CreatePermission(peer); stunCode(err) != 403 {
					t.Errorf("CreatePermission(%s) = %v, want STUN error 403", p, err)
				}
				if code := pionChannelBind(t, c, server, testPass, uint16(0x4000+i), peer); code != 403 {
					t.Errorf("ChannelBind(%s) answered %d, want 403", p, code)
				}
			}
		})
	}
	if strings.Count(logs.String(), "turn peer refused") < 12 {
		t.Fatalf("refusals not logged:\n%s", logs)
	}
	// A peer the filter allows still binds.
	c, server := clientOver(t, s, "udp", pool)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	defer func() { _ = relay.Close() }()
	peer := &net.UDPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 9}
	if code := pionChannelBind(t, c, server, testPass, 0x4000, peer); code != 0 {
		t.Fatalf("ChannelBind(%s) answered %d, want success", peer, code)
	}
	// Every answer has left, so no client key is kept.
	s.bindKeys.mu.Lock()
	kept := len(s.bindKeys.keys)
	s.bindKeys.mu.Unlock()
	if kept != 0 {
		t.Fatalf("%d ChannelBind keys kept after their answers", kept)
	}
}

// clientOver returns a pion TURN client of s over transport "udp", "tcp"
// or "tls" (trusting pool), and the server address it talks to.
func clientOver(t *testing.T, s *Server, transport string, pool *x509.CertPool) (*turn.Client, net.Addr) {
	t.Helper()
	switch transport {
	case "udp":
		addr := s.Addrs().UDP[0]
		return newUDPClient(t, addr, testUser, testPass), addr
	case "tcp":
		addr := s.Addrs().TCP[0]
		conn, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		return newClientOn(t, turn.NewSTUNConn(conn), addr.String(), testUser, testPass), addr
	default:
		addr := s.Addrs().TLS[0]
		conn, err := tls.Dial("tcp", addr.String(), &tls.Config{RootCAs: pool, ServerName: "turn.test", MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatal(err)
		}
		return newClientOn(t, turn.NewSTUNConn(conn), addr.String(), testUser, testPass), addr
	}
}

// pionChannelBind sends a ChannelBind for peer through c's own transaction
// machinery (pion's client binds channels only to peers it already has a
// permission for, while browsers and aiortc bind at once) and returns the
// STUN error code of the answer, 0 for success. The first, unsigned
// request fetches a nonce.
func pionChannelBind(t *testing.T, c *turn.Client, server net.Addr, pass string, ch uint16, peer *net.UDPAddr) int {
	t.Helper()
	bind := []stun.Setter{
		stun.NewType(stun.MethodChannelBind, stun.ClassRequest),
		stun.RawAttribute{Type: stun.AttrChannelNumber, Value: []byte{byte(ch >> 8), byte(ch), 0, 0}},
		peerAttr{peer},
	}
	do := func(extra ...stun.Setter) *stun.Message {
		t.Helper()
		msg, err := stun.Build(append(append([]stun.Setter{stun.TransactionID}, bind...), extra...)...)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.PerformTransaction(msg, server, false)
		if err != nil {
			t.Fatalf("ChannelBind transaction: %v", err)
		}
		return res.Msg
	}
	var nonce stun.Nonce
	var realm stun.Realm
	first := do()
	if err := nonce.GetFrom(first); err != nil {
		t.Fatalf("no nonce in %v", first)
	}
	if err := realm.GetFrom(first); err != nil {
		t.Fatalf("no realm in %v", first)
	}
	user := c.Username()
	resp := do(&user, realm, nonce, stun.NewLongTermIntegrity(user.String(), realm.String(), pass), stun.Fingerprint)
	if resp.Type.Class == stun.ClassSuccessResponse {
		return 0
	}
	var code stun.ErrorCodeAttribute
	if err := code.GetFrom(resp); err != nil {
		t.Fatalf("error response without ERROR-CODE: %v", resp)
	}
	return int(code.Code)
}

package turnsrv

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// Reasons a peer address is refused, used in logs and in the
// turnsrv_refusals_total metric.
const (
	reasonPeerDenied      = "peer_denied"
	reasonUserQuota       = "user_quota"
	reasonTotalQuota      = "total_quota"
	reasonAuthRateLimited = "auth_rate_limited"
)

// specialRanges are refused as peers unless allowed explicitly: they reach
// the server's own network rather than the internet (CVE-2020-26262 was a
// bypass of such a filter through 0.0.0.0 and IPv4-mapped addresses).
var specialRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// peerFilter decides which peer addresses an allocation may reach.
type peerFilter struct {
	allowLoopback bool
	allowed       []netip.Prefix
	denied        []netip.Prefix
}

func newPeerFilter(cfg Config) peerFilter {
	return peerFilter{allowLoopback: cfg.AllowLoopbackPeers, allowed: cfg.AllowedPeers, denied: cfg.DeniedPeers}
}

// allows reports whether ip may be a peer. Allowed ranges win, then denied
// ranges, then loopback (when enabled), then the default refusals.
func (f peerFilter) allows(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return false
	}
	for _, p := range f.allowed {
		if p.Contains(ip) {
			return true
		}
	}
	for _, p := range f.denied {
		if p.Contains(ip) {
			return false
		}
	}
	if ip.IsLoopback() {
		return f.allowLoopback
	}
	if ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsUnspecified() ||
		ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return false
	}
	for _, p := range specialRanges {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// permission is the turn.PermissionHandler built on allows.
func (s *Server) permission(client net.Addr, peer net.IP) bool {
	ip, _ := netip.AddrFromSlice(peer)
	if s.filter.allows(ip) {
		return true
	}
	s.metrics.refusals.WithLabelValues(reasonPeerDenied).Inc()
	s.log.Info("turn peer refused", "client", client.String(), "peer", ip.Unmap().String())
	return false
}

// authenticate is the turn.AuthHandler: the authenticator's answer, with
// the key of each ChannelBind kept for bindKeys.
func (s *Server) authenticate(ra *turn.RequestAttributes) (string, []byte, bool) {
	user, key, ok := s.auth.handle(ra)
	if ok && ra.Method == stun.MethodChannelBind {
		s.bindKeys.put(ra.SrcAddr, key)
	}
	return user, key, ok
}

// bindKeys lets the server answer 403 Forbidden to a ChannelBind whose
// peer it refuses, as RFC 8656 (section 12.2) and coturn do, and as it
// answers CreatePermission.
//
// The 401 comes from pion/turn, not from this package: its
// handleChannelBindRequest (internal/server/turn.go, v5.1.3) answers any
// refusal of the PermissionHandler with 401 Unauthorized, which clients
// and people take for a wrong password (aiortc logs "STUN transaction
// failed (401)"). A PermissionHandler returns only a bool, so this cannot
// be set from outside; the answer is corrected on its way out instead (see
// Server.outgoing). A ChannelBind 401 that carries MESSAGE-INTEGRITY is
// that refusal and nothing else, since pion signs no answer to a request
// that failed authentication. The corrected answer must be signed again
// with the client's key, so the key pion obtained for each ChannelBind is
// kept here, by client address, until the answer to it leaves. The fix
// in pion/turn itself is testdata/pion-turn-channelbind-403.patch, a
// one-line change in the form pion takes contributions.
type bindKeys struct {
	mu   sync.Mutex
	keys map[bindClient]bindKey
}

// bindClient is a client address with its network, so that a UDP and a
// TCP client with the same address and port stay apart.
type bindClient struct{ network, addr string }

type bindKey struct {
	key []byte
	at  time.Time
}

// maxBindKeys bounds bindKeys: a key stays only from authentication to
// answer, but pion does not answer a ChannelBind for which there is no
// allocation, and such keys are dropped once they are stale.
const maxBindKeys = 1024

func newBindKeys() *bindKeys { return &bindKeys{keys: map[bindClient]bindKey{}} }

func (b *bindKeys) put(client net.Addr, key []byte) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.keys) >= maxBindKeys {
		for c, k := range b.keys {
			if now.Sub(k.at) > 10*time.Second {
				delete(b.keys, c)
			}
		}
		if len(b.keys) >= maxBindKeys {
			return // the answer stays pion's 401
		}
	}
	b.keys[bindClient{client.Network(), client.String()}] = bindKey{key: key, at: now}
}

func (b *bindKeys) take(client net.Addr) []byte {
	c := bindClient{client.Network(), client.String()}
	b.mu.Lock()
	defer b.mu.Unlock()
	k, ok := b.keys[c]
	if ok {
		delete(b.keys, c)
	}
	return k.key
}

// STUN message types of ChannelBind answers (RFC 8489 section 5).
const (
	channelBindSuccess = 0x0109
	channelBindError   = 0x0119
)

// fix returns p, a message the server sends to client, with pion's 401
// answer to a refused ChannelBind turned into a 403 signed with the same
// key. Any other answer to a ChannelBind drops the kept key; other
// messages pass untouched.
func (b *bindKeys) fix(p []byte, client net.Addr) []byte {
	if !stun.IsMessage(p) {
		return p
	}
	typ := uint16(p[0])<<8 | uint16(p[1])
	if typ != channelBindSuccess && typ != channelBindError {
		return p
	}
	key := b.take(client)
	if typ != channelBindError || key == nil {
		return p
	}
	m := &stun.Message{Raw: append([]byte(nil), p...)}
	var code stun.ErrorCodeAttribute
	if m.Decode() != nil || code.GetFrom(m) != nil || code.Code != stun.CodeUnauthorized ||
		!m.Contains(stun.AttrMessageIntegrity) {
		return p
	}
	setters := []stun.Setter{&stun.Message{TransactionID: m.TransactionID}, m.Type, stun.CodeForbidden}
	for _, a := range m.Attributes {
		switch a.Type {
		case stun.AttrErrorCode, stun.AttrMessageIntegrity, stun.AttrFingerprint:
		default:
			setters = append(setters, a)
		}
	}
	setters = append(setters, stun.MessageIntegrity(key))
	if m.Contains(stun.AttrFingerprint) {
		setters = append(setters, stun.Fingerprint)
	}
	out, err := stun.Build(setters...)
	if err != nil {
		return p
	}
	return out.Raw
}

package turnsrv

import (
	"net"
	"net/netip"
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

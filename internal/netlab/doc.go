// Package netlab builds a small internet out of Linux network namespaces
// for tests: a public namespace where servers run, and two LANs, each a
// host behind its own NAT router.
//
//	LAN 0: host 10.99.1.2 ── router (NAT) 203.0.113.1 ─┐
//	                                                     ├─ bridge ── public 203.0.113.10
//	LAN 1: host 172.31.2.2 ─ router (NAT) 203.0.113.2 ─┘
//
// A router is a cone NAT (iptables MASQUERADE, which keeps one public
// port per socket whoever it talks to) or a symmetric one (MASQUERADE
// --random-fully: a new random public port for every destination), and
// lets in only replies to what its LAN sent. LAN.ProbeMapping checks
// which one a router is, as a STUN client would, by asking two STUN
// ports from one socket. Faults are set on a LAN's router or link: UDP
// or a TCP port blocked, random loss (iptables -m statistic; LAN.Dropped
// counts what it dropped each way), an upload cap (tc tbf), a cut link.
//
// Nothing leaves the namespaces: they have no link to the host's network,
// and the public namespace drops whatever it has no route for. Programs
// run inside a namespace through NS.Command; Go code can open sockets in
// one with NS.Do.
//
// It needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN), ip (iproute2) and
// iptables; tc for LAN.Cap. New returns an error wrapping ErrUnavailable
// when it cannot make namespaces at all, so that tests can skip.
package netlab

// Package turnsrv is an embedded STUN/TURN server, built on pion/turn, that
// replaces a coturn deployment: one goroutine inside a Go program, or the
// examples/turn-server binary, configured with coturn's settings.
//
// It serves STUN binding and TURN (RFC 5766, RFC 6062, RFC 6156) over UDP
// and TCP, and over TLS when a certificate is given. Clients authenticate
// with long-term credentials (user=name:password) or with coturn's TURN
// REST API scheme (use-auth-secret), whose short-lived credentials
// RESTCredentials mints, so a signaling server can hand browsers a
// password that expires instead of a fixed one.
//
// Safety comes by default: allocations cannot relay to loopback, private,
// link-local, multicast or unspecified addresses unless allowed
// (coturn's allow-loopback-peers, allowed-peer-ip, denied-peer-ip); users
// and the server have allocation quotas; each allocation can have a
// bandwidth cap; failed authentications are logged and rate-limited per
// client address.
//
// For throughput on Linux, one data-plane goroutine relays ChannelData:
// every UDP listening and relay socket is in one epoll set, read in
// batches (recvmmsg) into large socket buffers, and replies to clients
// leave in batches (sendmmsg). pion stays in charge of allocations,
// permissions and channels, and its events keep the data plane's table;
// STUN requests and indications go to pion. Optionally
// (Config.UDPReaders) several sockets share a listening port
// (SO_REUSEPORT), each with its own reader, all feeding one pion server so
// allocations and EVEN-PORT reservations stay shared. Reserved relay ports
// stay bound until used. Metrics go to a Prometheus registry of the
// server's own, served with /healthz when Config.HTTPAddr is set.
//
// ParseConf reads a coturn-style turnserver.conf into a Config.
package turnsrv

// Package turnsrv is a STUN/TURN server, built on pion/turn, that takes
// coturn's settings. It stands in for the original deployment's coturn
// server: WebRTC peers behind NATs that cannot reach each other directly
// relay their media through it.
//
// # Running a server
//
// A robot program, or the program that runs the signaling server, can
// serve TURN itself: New checks a Config, binds the listeners and returns
// a running Server, and Close stops it.
//
//	srv, err := turnsrv.New(turnsrv.Config{
//		Realm:       "example.org",
//		ExternalIPs: []turnsrv.ExternalIP{{Public: publicIP}},
//		AuthSecrets: []string{secret},
//	})
//	if err != nil {
//		return err
//	}
//	defer srv.Close()
//
// The zero Config listens on 0.0.0.0:3478 over UDP and TCP, like coturn;
// Config.AnyPort lets the system choose the ports instead, which
// Server.Addrs then reports. To run the server on its own, the
// examples/turn-server command reads a coturn turnserver.conf (-c), takes
// the same keys as flags, and serves until it is interrupted. ParseConf
// does the reading for any program: it returns a Config and the keys it
// ignores (coturn's own no-cli, pidfile and the like are accepted), which
// ConfFile.LogWarnings reports on one line.
//
// # Credentials
//
// Clients authenticate in either of coturn's two ways, which work
// together:
//
//   - Long-term users (Config.Users; coturn's lt-cred-mech with
//     user=name:password lines): fixed names and passwords, for robots and
//     programs you configure yourself.
//   - TURN REST secrets (Config.AuthSecrets; coturn's use-auth-secret with
//     static-auth-secret): the server knows only a secret it shares with
//     the signaling server, which mints a username "expiry:user" and a
//     password with RESTCredentials for each browser it admits. The
//     credential expires by itself, nothing is stored, and it works as
//     well with a coturn server that has the same secret.
//
// Failed authentications are logged, counted and, past
// Config.AuthFailures a minute, refused per client address.
//
// # What it matches of coturn
//
// It serves STUN binding and TURN (RFC 5766; TCP relays, RFC 6062; IPv6,
// RFC 6156) over UDP and TCP, and over TLS when a certificate is given,
// with EVEN-PORT and RESERVATION-TOKEN, so that coturn's own test client,
// turnutils_uclient, works against it. Its Config fields carry coturn's
// names and defaults (listening and relay addresses, external-ip
// PUBLIC/PRIVATE for a server behind a 1:1 NAT, the relay port range,
// realm, fingerprint, user-quota, total-quota, max-bps, allowed-peer-ip,
// denied-peer-ip, Prometheus metrics); ParseConf lists the keys it reads.
// It does not serve DTLS, read a user database or hashed keys (0x...),
// accept several REST secrets at once (changing the secret needs a
// restart), or offer coturn's telnet CLI. One default differs: coturn
// relays to private addresses unless told otherwise, while this server
// refuses peers on loopback, private, link-local, multicast and
// unspecified addresses unless they are allowed (Config.AllowLoopbackPeers,
// Config.AllowedPeers), since a relay open to the robot's own network is
// rarely wanted. A refused peer is answered 403 Forbidden, to
// CreatePermission and ChannelBind alike, as coturn answers it.
//
// # Performance and metrics
//
// On Linux one data-plane goroutine relays ChannelData: every UDP
// listening and relay socket is in one epoll set, read in batches
// (recvmmsg) into large socket buffers, and replies to clients leave in
// batches (sendmmsg). pion stays in charge of allocations, permissions and
// channels, and its events keep the data plane's table; STUN requests and
// indications go to pion. Optionally (Config.UDPReaders) several sockets
// share a listening port (SO_REUSEPORT), each with its own reader, all
// feeding one pion server so allocations and EVEN-PORT reservations stay
// shared. Reserved relay ports stay bound until used.
//
// Metrics go to a Prometheus registry of the server's own
// (Server.Registry), served with /healthz when Config.HTTPAddr is set.
package turnsrv

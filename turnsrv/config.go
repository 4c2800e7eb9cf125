package turnsrv

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"time"

	"github.com/pion/transport/v5"
)

// Defaults applied to zero Config fields. The ports are coturn's
// defaults; the realm is this package's own.
const (
	// DefaultListeningPort is the STUN/TURN port over UDP and TCP
	// (coturn's listening-port).
	DefaultListeningPort = 3478
	// DefaultTLSListeningPort is the TURN-over-TLS port (coturn's
	// tls-listening-port).
	DefaultTLSListeningPort = 5349
	// DefaultMinPort is the lowest relay port (coturn's min-port).
	DefaultMinPort = 49152
	// DefaultMaxPort is the highest relay port (coturn's max-port).
	DefaultMaxPort = 65535
	// DefaultRealm is the long-term credential realm.
	DefaultRealm = "avlink"
	// DefaultSocketBuffer is the receive and send buffer size, in bytes,
	// asked for listening sockets.
	DefaultSocketBuffer = 4 << 20
	// DefaultAuthFailures is how many failed authentications per minute a
	// client address may make before it is refused.
	DefaultAuthFailures = 10
)

// Config configures a Server. The zero value is a usable server on
// 0.0.0.0:3478 (UDP and TCP) that knows no users, so only STUN binding
// succeeds. Most fields map onto a coturn setting of the same meaning,
// named in parentheses in their comment, so a turnserver.conf can be read
// into a Config with ParseConf.
type Config struct {
	// ListeningIPs are the addresses to listen on (listening-ip). Empty
	// means 0.0.0.0.
	ListeningIPs []netip.Addr
	// ListeningPort is the UDP and TCP port for STUN and TURN
	// (listening-port). Zero means 3478.
	ListeningPort int
	// TLSListeningPort is the TCP port for TURN over TLS, "turns:"
	// (tls-listening-port). Zero means 5349. TLS is served only when a
	// certificate is configured and NoTLS is false.
	TLSListeningPort int
	// AnyPort lets the system choose a free port for every listener, as
	// tests and programs running several servers want; ListeningPort and
	// TLSListeningPort must then be zero. UDP and TCP may get different
	// ports; Server.Addrs reports them. It has no coturn equivalent.
	AnyPort bool
	// NoUDP and NoTCP turn off the plain UDP and TCP listeners (no-udp,
	// no-tcp). NoTLS turns off TLS even when a certificate is given (no-tls).
	NoUDP, NoTCP, NoTLS bool

	// CertFile and KeyFile are PEM files for TURN over TLS (cert, pkey);
	// both or neither must be set.
	CertFile, KeyFile string
	// Certificates, when not empty, is used for TLS instead of CertFile
	// and KeyFile, for a program that holds its certificate in memory.
	Certificates []tls.Certificate

	// RelayIPs are the local addresses relay sockets bind to (relay-ip),
	// at most one per address family is used. Empty means the first
	// listening IP, or, when that is unspecified, the first non-loopback
	// interface address (loopback when there is none).
	RelayIPs []netip.Addr
	// ExternalIPs map relay addresses to the addresses clients are told
	// (external-ip, "PUBLIC" or "PUBLIC/PRIVATE"), for a server behind a
	// 1:1 NAT such as a cloud instance's public address.
	ExternalIPs []ExternalIP
	// MinPort and MaxPort bound the relay ports (min-port, max-port). Zero
	// means 49152 and 65535.
	MinPort, MaxPort int

	// Realm is the long-term credential realm (realm). Empty means
	// "avlink".
	Realm string
	// Users maps user names to passwords for the long-term credential
	// mechanism (lt-cred-mech with user=name:password lines).
	Users map[string]string
	// AuthSecrets, when not empty, accept coturn TURN REST API credentials
	// (use-auth-secret, static-auth-secret): username "expiry:user" with
	// the password minted by RESTCredentials from the first secret (pion
	// asks for one key per request, so a rotated secret needs a restart;
	// ParseConf warns about extra static-auth-secret lines). Users keep
	// working alongside.
	AuthSecrets []string

	// AllowLoopbackPeers permits relaying to 127.0.0.0/8 and ::1
	// (allow-loopback-peers). By default loopback, private, link-local,
	// multicast and unspecified peers are refused with 403 Forbidden.
	AllowLoopbackPeers bool
	// AllowedPeers are peer ranges permitted even when they fall in a
	// refused class (allowed-peer-ip); they win over DeniedPeers.
	AllowedPeers []netip.Prefix
	// DeniedPeers are further peer ranges to refuse (denied-peer-ip).
	DeniedPeers []netip.Prefix

	// UserQuota limits the simultaneous allocations of one user
	// (user-quota); TotalQuota limits them for the whole server
	// (total-quota). Zero means no limit. A refused allocation gets 486
	// Allocation Quota Reached.
	UserQuota, TotalQuota int
	// MaxBPS caps the bytes per second each allocation relays in each
	// direction (max-bps); packets over the cap are dropped. Zero means no
	// cap.
	MaxBPS int64
	// AuthFailures is how many failed authentications a client IP address
	// may make per minute before its requests are refused without
	// checking. Zero means 10.
	AuthFailures int
	// NoAuthRateLimit turns that limit off: failed authentications are
	// still logged and counted, but never refused for their number.
	NoAuthRateLimit bool

	// Fingerprint adds a FINGERPRINT attribute to every STUN message the
	// server sends (fingerprint). Binding responses always carry one.
	Fingerprint bool

	// AllocationLifetime, PermissionLifetime and ChannelLifetime are the
	// default lifetimes. Zero means 10 minutes, 5 minutes and 10 minutes.
	AllocationLifetime, PermissionLifetime, ChannelLifetime time.Duration

	// HTTPAddr, when set (for example "127.0.0.1:9641"), serves Prometheus
	// metrics at /metrics and a health check at /healthz (prometheus,
	// prometheus-port). Empty means no HTTP server; Server.Registry still
	// holds the metrics.
	HTTPAddr string

	// UDPReaders is how many sockets, each with its own reader goroutine,
	// share each UDP listening port (SO_REUSEPORT, Linux only). Zero means
	// one, which on Linux the data plane reads along with the relay
	// sockets (see the package documentation): the least CPU per packet.
	// More readers drain the kernel queues in parallel on many-core
	// servers, through pion; all of them feed one allocation table, so
	// reservations stay shared.
	UDPReaders int
	// SocketBuffer is the receive and send buffer size, in bytes, asked of
	// the kernel for listening sockets (relay sockets get at most 1 MiB).
	// Zero means 4 MiB. A refusal is logged.
	SocketBuffer int
	// SystemSocketBuffers leaves every socket with the kernel's default
	// buffer sizes; SocketBuffer is then ignored.
	SystemSocketBuffers bool

	// Net replaces the operating system's network, for tests on
	// github.com/pion/transport/v5/vnet. Nil means the real network. With
	// a virtual network there is one reader per port and no TLS or TCP
	// relay tuning.
	Net transport.Net

	// Logger receives the server's logs. Nil means slog.Default().
	Logger *slog.Logger
}

// ExternalIP maps a private relay address to the public address clients
// must use, as in coturn's external-ip=PUBLIC/PRIVATE. A zero Private maps
// every relay address of Public's family.
type ExternalIP struct {
	// Public is the address clients are told.
	Public netip.Addr
	// Private is the local relay address it stands for, of the same
	// family; zero means every relay address of Public's family.
	Private netip.Addr
}

// String formats e in coturn's PUBLIC/PRIVATE notation.
func (e ExternalIP) String() string {
	if !e.Private.IsValid() {
		return e.Public.String()
	}
	return e.Public.String() + "/" + e.Private.String()
}

// withDefaults returns c with zero fields replaced by their defaults and
// reports settings that cannot work, wrapping ErrConfig.
func (c Config) withDefaults() (Config, error) {
	if err := c.check(); err != nil {
		return c, err
	}
	if c.AnyPort {
		c.ListeningPort, c.TLSListeningPort = 0, 0
	} else {
		if c.ListeningPort == 0 {
			c.ListeningPort = DefaultListeningPort
		}
		if c.TLSListeningPort == 0 {
			c.TLSListeningPort = DefaultTLSListeningPort
		}
	}
	if c.MinPort == 0 {
		c.MinPort = DefaultMinPort
	}
	if c.MaxPort == 0 {
		c.MaxPort = DefaultMaxPort
	}
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.AuthFailures == 0 {
		c.AuthFailures = DefaultAuthFailures
	}
	if c.SocketBuffer == 0 {
		c.SocketBuffer = DefaultSocketBuffer
	}
	if c.UDPReaders == 0 || c.Net != nil || runtime.GOOS != "linux" {
		c.UDPReaders = 1
	}
	if len(c.ListeningIPs) == 0 {
		c.ListeningIPs = []netip.Addr{netip.IPv4Unspecified()}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MinPort > c.MaxPort {
		return c, fmt.Errorf("%w: relay port range %d-%d", ErrConfig, c.MinPort, c.MaxPort)
	}
	return c, nil
}

// check reports the settings of c, before defaults, that cannot work.
func (c Config) check() error {
	port := func(p int) bool { return p >= 0 && p <= 65535 }
	switch {
	case !port(c.ListeningPort):
		return fmt.Errorf("%w: listening-port %d", ErrConfig, c.ListeningPort)
	case !port(c.TLSListeningPort):
		return fmt.Errorf("%w: tls-listening-port %d", ErrConfig, c.TLSListeningPort)
	case c.AnyPort && (c.ListeningPort != 0 || c.TLSListeningPort != 0):
		return fmt.Errorf("%w: AnyPort with listening-port %d, tls-listening-port %d (want zero)",
			ErrConfig, c.ListeningPort, c.TLSListeningPort)
	case !port(c.MinPort) || !port(c.MaxPort):
		return fmt.Errorf("%w: relay port range %d-%d", ErrConfig, c.MinPort, c.MaxPort)
	case (c.CertFile == "") != (c.KeyFile == ""):
		return fmt.Errorf("%w: cert and pkey must be given together", ErrConfig)
	case c.NoUDP && c.NoTCP && !c.tlsEnabled():
		return fmt.Errorf("%w: every listener is turned off", ErrConfig)
	case c.UserQuota < 0 || c.TotalQuota < 0 || c.MaxBPS < 0:
		return fmt.Errorf("%w: negative quota or bandwidth cap", ErrConfig)
	case c.AuthFailures < 0:
		return fmt.Errorf("%w: AuthFailures %d (NoAuthRateLimit turns the limit off)", ErrConfig, c.AuthFailures)
	case c.SocketBuffer < 0:
		return fmt.Errorf("%w: SocketBuffer %d (SystemSocketBuffers keeps the kernel's sizes)", ErrConfig, c.SocketBuffer)
	case c.UDPReaders < 0:
		return fmt.Errorf("%w: UDPReaders %d", ErrConfig, c.UDPReaders)
	case c.AllocationLifetime < 0 || c.PermissionLifetime < 0 || c.ChannelLifetime < 0:
		return fmt.Errorf("%w: negative lifetime", ErrConfig)
	}
	for _, ip := range c.ListeningIPs {
		if !ip.IsValid() {
			return fmt.Errorf("%w: invalid listening-ip", ErrConfig)
		}
	}
	for _, e := range c.ExternalIPs {
		if !e.Public.IsValid() || (e.Private.IsValid() && e.Private.Is4() != e.Public.Is4()) {
			return fmt.Errorf("%w: external-ip %q", ErrConfig, e.String())
		}
	}
	return nil
}

// tlsEnabled reports whether a TLS listener will be started.
func (c Config) tlsEnabled() bool {
	return !c.NoTLS && (len(c.Certificates) > 0 || c.CertFile != "")
}

// socketBuffer is the buffer size to ask for listening sockets; zero
// means none (the kernel's default).
func (c Config) socketBuffer() int {
	if c.SystemSocketBuffers {
		return 0
	}
	return c.SocketBuffer
}

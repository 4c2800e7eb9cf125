package wsserver

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a [Server]. The zero value is a working server with
// safe limits; every field says what its zero value means. No field takes
// a negative number: [New] refuses one with an error wrapping [ErrConfig].
type Config struct {
	// Logger receives connects, joins, forwards (at debug level), refusals
	// and disconnects. Nil means slog.Default().
	Logger *slog.Logger

	// MaxMessageBytes is the largest text frame accepted; a bigger one
	// closes that connection with status 1009 (message too big).
	// 0 means 64 KiB.
	MaxMessageBytes int64

	// MessagesPerSecond limits what one connection may send, on average;
	// messages over the limit are refused with a rate-limited error. 0
	// means 50 per second, enough for a trickle of ICE candidates.
	MessagesPerSecond float64
	// MessageBurst is how many messages a connection may send in a quick
	// burst before MessagesPerSecond applies. 0 means 200.
	MessageBurst int
	// NoRateLimit turns the per-connection rate limit off, for load
	// tests and trusted networks; MessagesPerSecond and MessageBurst are
	// then ignored.
	NoRateLimit bool

	// MaxPeersPerRoom refuses joins to a full room with a room-full
	// error. 0 means 64.
	MaxPeersPerRoom int
	// MaxRooms refuses joins that would create another room with a
	// too-many-rooms error. 0 means 10000.
	MaxRooms int
	// MaxConnections refuses upgrades beyond this many open connections
	// with 503. 0 means 100000.
	MaxConnections int

	// QueueBytes bounds each connection's outgoing queue. 0 means 1 MiB.
	QueueBytes int
	// WriteTimeout is how long a connection's queue may stay full before
	// the connection counts as stuck and is closed. 0 means 10 s.
	WriteTimeout time.Duration
	// PingInterval is how often each connection is pinged; a peer that
	// does not answer within the interval is disconnected. 0 means 20 s.
	PingInterval time.Duration
	// DisablePings turns the keepalive pings off: a peer that vanishes
	// without closing its TCP connection then stays until the operating
	// system gives up on it.
	DisablePings bool

	// AllowedOrigins lists the browser origins (host patterns, as in
	// path.Match, e.g. "example.com" or "*.example.com") that may connect,
	// beside the server's own host and localhost, which are always
	// allowed. "*" allows every origin. Nil allows no others. Clients that
	// send no Origin (robots, scripts) are not affected.
	AllowedOrigins []string

	// Token, when set, must be presented before the upgrade, either as
	// "Authorization: Bearer <token>" or as the query parameter
	// "token"; a request without it is refused with 403. Empty means no
	// token is needed.
	Token string

	// Registerer receives the server's Prometheus metrics. Nil means a
	// registry of the server's own, served by [Server.Metrics].
	Registerer prometheus.Registerer

	// NATS, when set, shares rooms with every other Server on the same
	// NATS system and NATSPrefix: a room's members may then be connected
	// to any of them (see "Rooms across servers" in the package
	// documentation). The connection is the caller's, made with the
	// URLs, credentials (nats.UserCredentials) and TLS (tls:// URLs,
	// nats.Secure, nats.RootCAs) its deployment needs; close it after
	// the Server. Nil keeps rooms within this process.
	NATS *nats.Conn
	// NATSPrefix is the first token of the NATS subjects the server uses,
	// to keep fleets on one NATS system apart. Empty means "avlink".
	NATSPrefix string

	// heartbeat is the presence interval on NATS; 0 means 1 s. Tests
	// shorten it.
	heartbeat time.Duration
}

// check reports the first field that cannot work.
func (c *Config) check() error {
	for _, f := range []struct {
		name string
		neg  bool
	}{
		{"MaxMessageBytes", c.MaxMessageBytes < 0},
		{"MessagesPerSecond", c.MessagesPerSecond < 0},
		{"MessageBurst", c.MessageBurst < 0},
		{"MaxPeersPerRoom", c.MaxPeersPerRoom < 0},
		{"MaxRooms", c.MaxRooms < 0},
		{"MaxConnections", c.MaxConnections < 0},
		{"QueueBytes", c.QueueBytes < 0},
		{"WriteTimeout", c.WriteTimeout < 0},
		{"PingInterval", c.PingInterval < 0},
		{"NATSPrefix", strings.ContainsAny(c.NATSPrefix, ".*> \t\r\n")},
	} {
		if f.neg {
			if f.name == "NATSPrefix" {
				return fmt.Errorf("%w: NATSPrefix %q is not one subject token", ErrConfig, c.NATSPrefix)
			}
			hint := ""
			switch f.name {
			case "MessagesPerSecond", "MessageBurst":
				hint = " (set NoRateLimit to turn the limit off)"
			case "PingInterval":
				hint = " (set DisablePings to turn pings off)"
			}
			return fmt.Errorf("%w: %s is negative%s", ErrConfig, f.name, hint)
		}
	}
	return nil
}

func (c *Config) maxMessageBytes() int64 {
	if c.MaxMessageBytes == 0 {
		return 64 << 10
	}
	return c.MaxMessageBytes
}

func (c *Config) queueBytes() int {
	if c.QueueBytes == 0 {
		return 1 << 20
	}
	return c.QueueBytes
}

func (c *Config) writeTimeout() time.Duration {
	if c.WriteTimeout == 0 {
		return 10 * time.Second
	}
	return c.WriteTimeout
}

// pingInterval returns 0 when pings are off.
func (c *Config) pingInterval() time.Duration {
	switch {
	case c.DisablePings:
		return 0
	case c.PingInterval == 0:
		return 20 * time.Second
	}
	return c.PingInterval
}

func (c *Config) maxPeersPerRoom() int {
	if c.MaxPeersPerRoom == 0 {
		return 64
	}
	return c.MaxPeersPerRoom
}

func (c *Config) maxRooms() int {
	if c.MaxRooms == 0 {
		return 10000
	}
	return c.MaxRooms
}

func (c *Config) maxConnections() int {
	if c.MaxConnections == 0 {
		return 100000
	}
	return c.MaxConnections
}

// rate returns the per-connection limit; perSecond 0 means none.
func (c *Config) rate() (perSecond float64, burst int) {
	if c.NoRateLimit {
		return 0, 0
	}
	perSecond, burst = c.MessagesPerSecond, c.MessageBurst
	if perSecond == 0 {
		perSecond = 50
	}
	if burst == 0 {
		burst = 200
	}
	return perSecond, burst
}

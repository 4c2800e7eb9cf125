package signal

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ServerConfig configures a [Server]. The zero value is a working server
// with safe limits.
type ServerConfig struct {
	// Logger receives connects, joins, forwards (at debug level), refusals
	// and disconnects. Nil means slog.Default().
	Logger *slog.Logger

	// MaxMessageBytes is the largest text frame accepted; a bigger one
	// closes that connection with status 1009 (message too big).
	// 0 means 64 KiB.
	MaxMessageBytes int64

	// MessagesPerSecond and MessageBurst limit what one connection may
	// send; messages over the limit are refused with a rate-limited error.
	// 0 means 50 per second with bursts of 200 (a trickle of candidates);
	// a negative MessagesPerSecond means no limit.
	MessagesPerSecond float64
	MessageBurst      int

	// MaxPeersPerRoom refuses joins to a full room. 0 means 64.
	MaxPeersPerRoom int
	// MaxRooms refuses joins that would create another room. 0 means 10000.
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
	// does not answer within the interval is disconnected. 0 means 20 s;
	// negative disables pings.
	PingInterval time.Duration

	// AllowedOrigins lists the browser origins (host patterns, as in
	// path.Match, e.g. "example.com" or "*.example.com") that may connect,
	// beside the server's own host and localhost, which are always
	// allowed. "*" allows every origin. Clients that send no Origin
	// (robots, scripts) are not affected.
	AllowedOrigins []string

	// Token, when set, must be presented before the upgrade, either as
	// "Authorization: Bearer <token>" or as the query parameter
	// "token". Empty means no token is needed.
	Token string

	// Registerer receives the server's Prometheus metrics. Nil means a
	// registry of the server's own, served by [Server.Metrics].
	Registerer prometheus.Registerer
}

func (c *ServerConfig) maxMessageBytes() int64 {
	if c.MaxMessageBytes <= 0 {
		return 64 << 10
	}
	return c.MaxMessageBytes
}

func (c *ServerConfig) queueBytes() int {
	if c.QueueBytes <= 0 {
		return 1 << 20
	}
	return c.QueueBytes
}

func (c *ServerConfig) writeTimeout() time.Duration {
	if c.WriteTimeout <= 0 {
		return 10 * time.Second
	}
	return c.WriteTimeout
}

func (c *ServerConfig) pingInterval() time.Duration {
	if c.PingInterval == 0 {
		return 20 * time.Second
	}
	return c.PingInterval
}

func (c *ServerConfig) maxPeersPerRoom() int {
	if c.MaxPeersPerRoom <= 0 {
		return 64
	}
	return c.MaxPeersPerRoom
}

func (c *ServerConfig) maxRooms() int {
	if c.MaxRooms <= 0 {
		return 10000
	}
	return c.MaxRooms
}

func (c *ServerConfig) maxConnections() int {
	if c.MaxConnections <= 0 {
		return 100000
	}
	return c.MaxConnections
}

func (c *ServerConfig) rate() (perSecond float64, burst int) {
	perSecond, burst = c.MessagesPerSecond, c.MessageBurst
	if perSecond == 0 {
		perSecond = 50
	}
	if burst <= 0 {
		burst = 200
	}
	return perSecond, burst
}

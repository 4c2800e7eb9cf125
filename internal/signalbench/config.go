package signalbench

import (
	"fmt"
	"log/slog"
	"time"
)

// Config says what to measure. The zero value of each field has the
// default given beside it.
type Config struct {
	// Repo is the module root, where examples/signal-server is built.
	// Empty means the current directory.
	Repo string
	// GoServer is a prebuilt Go server to measure instead of building
	// examples/signal-server; it must take the same flags.
	GoServer string
	// Servers lists the servers to measure. Nil means both, Go first.
	Servers []Kind
	// Counts lists the connection counts N. Nil means 10, 100, 1000 and
	// 10000.
	Counts []int
	// Rooms is how many rooms the joined-idle phase spreads the N
	// connections over. 0 means one room per 10 connections.
	Rooms int
	// LoadMax is the largest N the throughput phase runs at; larger
	// counts are measured idle only. 0 means 1000.
	LoadMax int
	// Duration is how long throughput is measured, after Warmup.
	// 0 means 5 s and 1 s.
	Duration, Warmup time.Duration
	// Window is how many load messages senders may be ahead of the
	// slowest receiver. 0 means 2000, which keeps every receiver's
	// backlog (2000 messages of 300 bytes) under the Go server's 1 MiB
	// queue.
	Window int
	// MessageBytes is the size of a load message as delivered, sender
	// included. 0 means 300.
	MessageBytes int
	// PacedClients send PacedRate messages a second each for
	// PacedDuration (after Warmup) in one room. 0 means 100 clients,
	// 2 messages a second, 10 s. A negative PacedClients skips the
	// paced run.
	PacedClients  int
	PacedRate     float64
	PacedDuration time.Duration
	// Settle is how long to wait before reading memory. 0 means 2 s.
	Settle time.Duration
	// Runs is how many times each measurement is made; medians are
	// reported. 0 means 3.
	Runs int
	// Instances, when set, replaces the default run with a comparison of
	// the Go server as several instances: for each count here, that many
	// servers (sharing rooms over one NATS server when more than one),
	// the clients spread evenly over them, in the paced run and in the
	// throughput phase at each of Counts up to LoadMax. Memory is not
	// measured. Nil runs the default benchmark.
	Instances []int
	// Logger receives progress. Nil means a discard logger.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Repo == "" {
		c.Repo = "."
	}
	if c.Servers == nil {
		c.Servers = []Kind{KindGo, KindNode}
	}
	if c.Counts == nil {
		c.Counts = []int{10, 100, 1000, 10000}
	}
	for _, n := range c.Counts {
		if n < 2 {
			return c, fmt.Errorf("%w: N=%d: at least 2 connections are needed", ErrConfig, n)
		}
	}
	if c.Rooms < 0 {
		return c, fmt.Errorf("%w: rooms %d is negative", ErrConfig, c.Rooms)
	}
	if c.LoadMax == 0 {
		c.LoadMax = 1000
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	if c.Warmup <= 0 {
		c.Warmup = time.Second
	}
	if c.Window <= 0 {
		c.Window = 2000
	}
	if c.MessageBytes <= 0 {
		c.MessageBytes = 300
	}
	if c.MessageBytes < 250 {
		return c, fmt.Errorf("%w: messages of %d bytes cannot hold a candidate", ErrConfig, c.MessageBytes)
	}
	if c.PacedClients == 0 {
		c.PacedClients = 100
	}
	if c.PacedRate <= 0 {
		c.PacedRate = 2
	}
	if c.PacedDuration <= 0 {
		c.PacedDuration = 10 * time.Second
	}
	if c.Settle <= 0 {
		c.Settle = 2 * time.Second
	}
	if c.Runs <= 0 {
		c.Runs = 3
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func (c Config) rooms(n int) int {
	if c.Rooms > 0 {
		return min(c.Rooms, n)
	}
	return max(1, n/10)
}

// Command signal-server runs the avlink signaling server: WebSocket on
// "/", health on "/healthz", Prometheus metrics on "/metrics".
//
//	go run ./examples/signal-server -addr :3000
//
// SIGINT or SIGTERM shuts it down gracefully: every client is closed with
// status 1001 (going away), for up to -shutdown-timeout; a second signal
// stops it at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/avlink/avlink/signal/wsserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	var bad badFlags
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, &bad):
		os.Exit(2) // the flag package has said what is wrong
	case err != nil:
		fmt.Fprintln(os.Stderr, "signal-server:", err)
		os.Exit(1)
	}
}

// badFlags is a command line the flag package refused, and explained.
type badFlags struct{ error }

// run serves until ctx is done, then shuts down gracefully. listening, if
// not nil, is told the address once the server listens.
func run(ctx context.Context, args []string, stderr io.Writer, listening func(net.Addr)) error {
	fs := flag.NewFlagSet("signal-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		addr      = fs.String("addr", ":3000", "listen address")
		maxBytes  = fs.Int64("max-message-bytes", 0, "largest message accepted (0: 64 KiB)")
		rate      = fs.Float64("rate", 0, "messages per second per connection (0: 50)")
		burst     = fs.Int("burst", 0, "message burst per connection (0: 200)")
		noRate    = fs.Bool("no-rate-limit", false, "do not limit messages per connection (load tests)")
		perRoom   = fs.Int("max-peers-per-room", 0, "peers per room (0: 64)")
		maxRooms  = fs.Int("max-rooms", 0, "rooms (0: 10000)")
		maxConns  = fs.Int("max-connections", 0, "open connections (0: 100000)")
		queue     = fs.Int("queue-bytes", 0, "outgoing queue per connection (0: 1 MiB)")
		ping      = fs.Duration("ping-interval", 0, "keepalive ping interval; silent peers are dropped (0: 20s)")
		noPings   = fs.Bool("disable-pings", false, "send no keepalive pings")
		origins   = fs.String("allowed-origins", "", "comma-separated extra browser origins (host patterns; * for any)")
		token     = fs.String("token", os.Getenv("AVLINK_SIGNAL_TOKEN"), "required token (default $AVLINK_SIGNAL_TOKEN; empty: none)")
		verbose   = fs.Bool("v", false, "log every forwarded message")
		shutdownT = fs.Duration("shutdown-timeout", 5*time.Second, "how long to wait for connections to close on SIGINT or SIGTERM")
	)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: signal-server [flags]\n\n"+
			"Runs the avlink signaling server: WebSocket on /, health on /healthz,\n"+
			"Prometheus metrics on /metrics. Flags:\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return badFlags{err}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see -h)", fs.Args())
	}
	if *rate < 0 || *burst < 0 {
		return errors.New("-rate and -burst must not be negative; -no-rate-limit turns the limit off")
	}
	if *ping < 0 {
		return errors.New("-ping-interval must not be negative; -disable-pings turns pings off")
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := wsserver.Config{
		Logger:            log,
		MaxMessageBytes:   *maxBytes,
		MessagesPerSecond: *rate,
		MessageBurst:      *burst,
		NoRateLimit:       *noRate,
		MaxPeersPerRoom:   *perRoom,
		MaxRooms:          *maxRooms,
		MaxConnections:    *maxConns,
		QueueBytes:        *queue,
		PingInterval:      *ping,
		DisablePings:      *noPings,
		Token:             *token,
	}
	if *origins != "" {
		cfg.AllowedOrigins = strings.Split(*origins, ",")
	}
	srv, err := wsserver.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("signal-server: listening", "addr", ln.Addr().String())
	if listening != nil {
		listening(ln.Addr())
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("signal-server: shutting down", "timeout", *shutdownT)
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownT)
	defer cancel()
	// Stop taking connections, then say goodbye to the open ones:
	// http.Server.Shutdown does not know hijacked WebSocket connections.
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("signal-server: http shutdown", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("signal-server: connections did not close in time, dropped them", "err", err)
	}
	return nil
}

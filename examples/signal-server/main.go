// Command signal-server runs the avlink signaling server: WebSocket on
// "/", health on "/healthz", Prometheus metrics on "/metrics".
//
//	go run ./examples/signal-server -addr :3000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	avsignal "github.com/avlink/avlink/signal"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "signal-server:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		addr      = flag.String("addr", ":3000", "listen address")
		maxBytes  = flag.Int64("max-message-bytes", 0, "largest message accepted (0: 64 KiB)")
		rate      = flag.Float64("rate", 0, "messages per second per connection (0: 50, negative: unlimited)")
		burst     = flag.Int("burst", 0, "message burst per connection (0: 200)")
		perRoom   = flag.Int("max-peers-per-room", 0, "peers per room (0: 64)")
		maxRooms  = flag.Int("max-rooms", 0, "rooms (0: 10000)")
		queue     = flag.Int("queue-bytes", 0, "outgoing queue per connection (0: 1 MiB)")
		origins   = flag.String("allowed-origins", "", "comma-separated extra browser origins (host patterns; * for any)")
		token     = flag.String("token", os.Getenv("AVLINK_SIGNAL_TOKEN"), "required token (default $AVLINK_SIGNAL_TOKEN; empty: none)")
		verbose   = flag.Bool("v", false, "log every forwarded message")
		shutdownT = flag.Duration("shutdown-timeout", 5*time.Second, "how long to wait for connections to close")
	)
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg := avsignal.ServerConfig{
		Logger:            log,
		MaxMessageBytes:   *maxBytes,
		MessagesPerSecond: *rate,
		MessageBurst:      *burst,
		MaxPeersPerRoom:   *perRoom,
		MaxRooms:          *maxRooms,
		QueueBytes:        *queue,
		Token:             *token,
	}
	if *origins != "" {
		cfg.AllowedOrigins = strings.Split(*origins, ",")
	}
	srv, err := avsignal.NewServer(cfg)
	if err != nil {
		return err
	}
	hs := &http.Server{Addr: *addr, Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	log.Info("signal-server: listening", "addr", *addr)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("signal-server: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownT)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("signal-server: http shutdown", "err", err)
	}
	return srv.Close(sctx)
}

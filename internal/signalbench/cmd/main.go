// Command signalbench loads the avlink signaling server and the original
// Node.js server side by side and prints the figures as Markdown.
//
//	go run ./internal/signalbench/cmd                      # N = 10, 100, 1000, 10000; 3 runs
//	go run ./internal/signalbench/cmd -n 1000 -rooms 100 -runs 1 -servers go
//	go run ./internal/signalbench/cmd -instances 1,2,3 -n 100,1000   # servers sharing rooms over NATS
//
// It builds examples/signal-server with go build and installs the npm
// package ws for node/server.js in a temporary directory, runs each
// server as its own process on 127.0.0.1 and opens the connections from
// this process, which shares the machine's cores with the server.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/avlink/avlink/internal/signalbench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "signalbench:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg signalbench.Config
	var counts, servers, instances string
	flag.StringVar(&counts, "n", "10,100,1000,10000", "comma-separated connection counts")
	flag.StringVar(&servers, "servers", "go,node", "comma-separated servers to measure: go, node")
	flag.StringVar(&cfg.Repo, "repo", ".", "module root, where examples/signal-server is built")
	flag.StringVar(&cfg.GoServer, "go-server", "", "prebuilt Go server taking signal-server's flags (empty: build examples/signal-server)")
	flag.IntVar(&cfg.Rooms, "rooms", 0, "rooms for the joined-idle phase (0: one per 10 connections)")
	flag.IntVar(&cfg.LoadMax, "load-max", 1000, "largest N with a throughput phase (larger: idle only)")
	flag.DurationVar(&cfg.Duration, "duration", 0, "throughput measuring time (0: 5s)")
	flag.DurationVar(&cfg.Warmup, "warmup", 0, "time before measuring (0: 1s)")
	flag.IntVar(&cfg.Window, "window", 0, "load messages in flight (0: 2000)")
	flag.IntVar(&cfg.MessageBytes, "message-bytes", 0, "load message size as delivered (0: 300)")
	flag.IntVar(&cfg.PacedClients, "paced-clients", 0, "clients in the paced run (0: 100; negative: skip it)")
	flag.Float64Var(&cfg.PacedRate, "paced-rate", 0, "messages per second per paced client (0: 2)")
	flag.DurationVar(&cfg.PacedDuration, "paced-duration", 0, "paced measuring time (0: 10s)")
	flag.DurationVar(&cfg.Settle, "settle", 0, "wait before reading memory (0: 2s)")
	flag.IntVar(&cfg.Runs, "runs", 3, "runs per measurement (medians are printed)")
	flag.StringVar(&instances, "instances", "", "instead of the default run, compare the Go server as several instances, e.g. 1,2,3 (more than one share rooms over a NATS server), clients spread over them")
	quiet := flag.Bool("q", false, "no progress on stderr")
	flag.Parse()

	for _, f := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("-n: %w", err)
		}
		cfg.Counts = append(cfg.Counts, n)
	}
	for _, f := range strings.Split(servers, ",") {
		cfg.Servers = append(cfg.Servers, signalbench.Kind(strings.TrimSpace(f)))
	}
	if instances != "" {
		for _, f := range strings.Split(instances, ",") {
			k, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("-instances: %w", err)
			}
			cfg.Instances = append(cfg.Instances, k)
		}
	}
	if !*quiet {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := signalbench.Run(ctx, cfg)
	if rep != nil && len(rep.Results)+len(rep.Paced)+len(rep.Fleet)+len(rep.FleetPaced) > 0 {
		if werr := rep.WriteMarkdown(os.Stdout); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

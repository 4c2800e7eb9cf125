// Command signal-server runs the avlink signaling server: WebSocket on
// "/", the viewer page for a plain GET on "/" (signal/viewer), ICE
// servers for the page and the robots on "/ice-servers", health on
// "/healthz", Prometheus metrics on "/metrics".
//
//	go run ./examples/signal-server -addr :3000
//	go run ./examples/signal-server -tls-self-signed robot.local,192.168.1.20 \
//		-turn-secret "$SECRET" -turn-url turn:turn.example.com:3478
//
// With a certificate (-tls-cert and -tls-key, or -tls-self-signed) the
// same port serves HTTPS and WSS to the browsers that need them for the
// microphone, and plain HTTP and WS to everyone else, so robots and the
// original deployment's clients keep dialling ws://host:3000/.
//
// With -nats (one or more NATS URLs) it shares its rooms with every other
// signal-server on the same NATS system, so a room's members may connect
// to any of them; -nats-creds, -nats-ca, -nats-cert and -nats-key give
// credentials and TLS, and tls:// URLs ask for TLS with the system's CAs:
//
//	go run ./examples/signal-server -nats nats://n1:4222,nats://n2:4222 -nats-creds signal.creds
//
// SIGINT or SIGTERM shuts it down gracefully: every client is closed with
// status 1001 (going away), for up to -shutdown-timeout; a second signal
// stops it at once.
package main

import (
	"context"
	"crypto/tls"
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

	"github.com/nats-io/nats.go"

	"github.com/avlink/avlink/examples/internal/tlsserve"
	"github.com/avlink/avlink/signal/viewer"
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
		addr              = fs.String("addr", ":3000", "listen address")
		maxBytes          = fs.Int64("max-message-bytes", 0, "largest message accepted (0: 64 KiB)")
		rate              = fs.Float64("rate", 0, "messages per second per connection (0: 50)")
		burst             = fs.Int("burst", 0, "message burst per connection (0: 200)")
		noRate            = fs.Bool("no-rate-limit", false, "do not limit messages per connection (load tests)")
		perRoom           = fs.Int("max-peers-per-room", 0, "peers per room (0: 64)")
		maxRooms          = fs.Int("max-rooms", 0, "rooms (0: 10000)")
		maxConns          = fs.Int("max-connections", 0, "open connections (0: 100000)")
		queue             = fs.Int("queue-bytes", 0, "outgoing queue per connection (0: 1 MiB)")
		ping              = fs.Duration("ping-interval", 0, "keepalive ping interval; silent peers are dropped (0: 20s)")
		noPings           = fs.Bool("disable-pings", false, "send no keepalive pings")
		origins           = fs.String("allowed-origins", "", "comma-separated extra browser origins (host patterns; * for any)")
		token             = fs.String("token", os.Getenv("AVLINK_SIGNAL_TOKEN"), "required token (default $AVLINK_SIGNAL_TOKEN; empty: none)")
		verbose           = fs.Bool("v", false, "log every forwarded message")
		noViewer          = fs.Bool("no-viewer", false, "do not serve the viewer page and /ice-servers: a plain GET on / gets a short text")
		tlsCert           = fs.String("tls-cert", "", "TLS certificate file (PEM): serve HTTPS and WSS beside HTTP and WS")
		tlsKey            = fs.String("tls-key", "", "TLS private key file (PEM) of -tls-cert")
		selfSign          = fs.String("tls-self-signed", "", "make a self-signed certificate for these comma-separated host names and addresses (with -tls-cert and -tls-key: kept in those files)")
		turnSec           = fs.String("turn-secret", os.Getenv("AVLINK_TURN_SECRET"), "TURN REST shared secret (coturn static-auth-secret): /ice-servers mints credentials (default $AVLINK_TURN_SECRET)")
		turnTTL           = fs.Duration("turn-ttl", 24*time.Hour, "how long a minted TURN credential is valid")
		shutdownT         = fs.Duration("shutdown-timeout", 5*time.Second, "how long to wait for connections to close on SIGINT or SIGTERM")
		natsCreds         = fs.String("nats-creds", "", "NATS credentials file (JWT and NKey seed), for -nats")
		natsCA            = fs.String("nats-ca", "", "CA certificate file (PEM) to verify the NATS servers by, for -nats (tls:// URLs use the system's otherwise)")
		natsCert          = fs.String("nats-cert", "", "client certificate file (PEM) for NATS servers that ask for one, with -nats-key")
		natsKey           = fs.String("nats-key", "", "private key file (PEM) of -nats-cert")
		natsPrefix        = fs.String("nats-prefix", "", "first token of the NATS subjects, to keep fleets apart (empty: avlink)")
		iceList, turnURLs listFlag
		natsURLs          listFlag
	)
	fs.Var(&natsURLs, "nats", "NATS server URL (repeatable, or comma-separated), e.g. nats://host:4222 or tls://host:4222: share rooms with the other servers on it")
	fs.Var(&iceList, "ice", "STUN (or credential-free TURN) URL handed out on /ice-servers (repeatable), e.g. stun:stun.example.com:3478")
	fs.Var(&turnURLs, "turn-url", "TURN URL handed out with minted credentials (repeatable), e.g. turn:turn.example.com:3478")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: signal-server [flags]\n\n"+
			"Runs the avlink signaling server: WebSocket on /, the viewer page on /\n"+
			"(open http://HOST:PORT/?room=realsense), ICE servers on /ice-servers,\n"+
			"health on /healthz, Prometheus metrics on /metrics. Flags:\n\n")
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
	if *turnTTL <= 0 {
		return errors.New("-turn-ttl must be positive")
	}
	if *turnSec != "" && len(turnURLs) == 0 {
		return errors.New("-turn-secret needs -turn-url: the TURN server the credentials are for")
	}
	if len(turnURLs) > 0 && *turnSec == "" {
		return errors.New("-turn-url needs -turn-secret (or $AVLINK_TURN_SECRET) to mint credentials; give a credential-free server with -ice")
	}
	if len(natsURLs) == 0 && (*natsCreds != "" || *natsCA != "" || *natsCert != "" || *natsKey != "" || *natsPrefix != "") {
		return errors.New("-nats-creds, -nats-ca, -nats-cert, -nats-key and -nats-prefix need -nats: the NATS servers to connect to")
	}
	if (*natsCert == "") != (*natsKey == "") {
		return errors.New("-nats-cert and -nats-key go together")
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
	if len(natsURLs) > 0 {
		opts := []nats.Option{
			nats.Name("avlink-signal-server"),
			nats.MaxReconnects(-1), // a signaling server waits for NATS to come back
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				log.Warn("signal-server: NATS disconnected", "err", err)
			}),
			nats.ReconnectHandler(func(nc *nats.Conn) {
				log.Info("signal-server: NATS reconnected", "url", nc.ConnectedUrlRedacted())
			}),
			nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
				log.Warn("signal-server: NATS", "err", err)
			}),
		}
		if *natsCreds != "" {
			opts = append(opts, nats.UserCredentials(*natsCreds))
		}
		if *natsCA != "" {
			opts = append(opts, nats.RootCAs(*natsCA))
		}
		if *natsCert != "" {
			opts = append(opts, nats.ClientCert(*natsCert, *natsKey))
		}
		nc, err := nats.Connect(strings.Join(natsURLs, ","), opts...)
		if err != nil {
			return fmt.Errorf("NATS: %w", err)
		}
		defer nc.Close() // after srv.Close, deferred below
		log.Info("signal-server: rooms shared over NATS", "url", nc.ConnectedUrlRedacted())
		cfg.NATS, cfg.NATSPrefix = nc, *natsPrefix
	}
	var tlsCfg *tls.Config
	if *tlsCert != "" || *tlsKey != "" || *selfSign != "" {
		cert, made, err := tlsserve.ServerCert(*tlsCert, *tlsKey, *selfSign, time.Now())
		if err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
		how := "loaded"
		if made {
			how = "self-signed, made now"
		}
		log.Info("signal-server: TLS certificate; compare its fingerprint with the one your browser shows", "how", how, "sha256", tlsserve.Fingerprint(cert))
	}
	handler := http.Handler(nil)
	srv, err := wsserver.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	if *noViewer {
		handler = srv.Handler()
	} else {
		vcfg := viewer.Config{TURNSecret: *turnSec, TURNURLs: turnURLs, TURNTTL: *turnTTL, Token: *token, Logger: log}
		for _, u := range iceList {
			vcfg.ICEServers = append(vcfg.ICEServers, viewer.ICEServer{URLs: []string{u}})
		}
		page, err := viewer.New(vcfg)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("/", page.WithSignaling(srv))
		mux.Handle("/healthz", srv.Health())
		mux.Handle("/metrics", srv.Metrics())
		handler = mux
	}
	raw, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	ln := net.Listener(raw)
	var either *tlsserve.EitherListener
	if tlsCfg != nil {
		either = tlsserve.NewEitherListener(raw, tlsCfg)
		ln = either
		defer either.Wait()
		defer either.Close()
	}
	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// Failed TLS handshakes (a browser that has not yet accepted a
		// self-signed certificate) are no news.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("signal-server: listening", "addr", ln.Addr().String(), "tls", tlsCfg != nil)
	if !*noViewer {
		log.Info("signal-server: viewer page", "url", pageURL(ln.Addr(), tlsCfg != nil))
	}
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

// listFlag is a repeatable flag; a value may also list several,
// comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, tlsserve.SplitList(v)...)
	return nil
}

// pageURL is where the viewer page is, for the log.
func pageURL(a net.Addr, tls bool) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/?room=realsense"
}

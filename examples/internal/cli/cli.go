// Package cli holds the flag and logging plumbing the example programs
// share.
package cli

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/wsclient"
)

// Common holds the flags every example program shares: where to signal,
// which room, the ICE servers and logging.
type Common struct {
	signal, room, token *string
	relayOnly, verbose  *bool
	cpuProfile          *string
	ice                 func() []rtclink.ICEServer
	iceFrom             func(ctx context.Context, token string) ([]rtclink.ICEServer, error)
	log                 *slog.Logger
}

// Flags registers the shared flags; call its methods after flag.Parse.
func Flags() *Common {
	return &Common{
		signal:     flag.String("signal", "ws://localhost:3000", "signaling server; several, comma-separated, for servers sharing rooms over NATS: tried in turn on a drop"),
		room:       flag.String("room", "realsense", "room to join"),
		token:      flag.String("token", os.Getenv("AVLINK_SIGNAL_TOKEN"), "signaling token (default $AVLINK_SIGNAL_TOKEN)"),
		relayOnly:  flag.Bool("relay-only", false, "use TURN relay candidates only"),
		verbose:    flag.Bool("v", false, "debug logs"),
		cpuProfile: flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)"),
		ice:        iceFlags(),
		iceFrom:    iceFromFlag(),
	}
}

// Logger is the programs' logger, at debug level with -v.
func (c *Common) Logger() *slog.Logger {
	if c.log == nil {
		c.log = Logger(*c.verbose)
	}
	return c.log
}

// Config is a session configuration with the shared flags applied and
// both data channels on.
func (c *Common) Config() rtclink.Config {
	return rtclink.Config{ICEServers: c.ice(), RelayOnly: *c.relayOnly, DataChannels: true, Logger: c.Logger()}
}

// Run runs a session with cfg in the flags' room (see the Run function),
// profiling it with -cpuprofile. With -ice-from it first adds the ICE
// servers fetched from there to cfg's.
func (c *Common) Run(cfg rtclink.Config, started ...func(rtclink.Session)) error {
	done, err := c.prepare(&cfg)
	if err != nil {
		return err
	}
	defer done()
	return Run(cfg, *c.signal, *c.room, *c.token, c.Logger(), started...)
}

// prepare adds the ICE servers -ice-from fetches to cfg's and starts the
// -cpuprofile profile, which done ends.
func (c *Common) prepare(cfg *rtclink.Config) (done func(), err error) {
	fetched, err := c.iceFrom(context.Background(), *c.token)
	if err != nil {
		return nil, err
	}
	if len(fetched) > 0 {
		c.Logger().Info("ICE servers fetched", "servers", len(fetched))
	}
	cfg.ICEServers = append(cfg.ICEServers, fetched...)
	if *c.cpuProfile == "" {
		return func() {}, nil
	}
	f, err := os.Create(*c.cpuProfile)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// iceFlags registers -ice, -ice-user and -ice-pass and returns a function
// that builds the ICE servers from them after flag.Parse.
func iceFlags() func() []rtclink.ICEServer {
	var urls listFlag
	flag.Var(&urls, "ice", "STUN or TURN URL (repeatable), e.g. turn:host:3478")
	user := flag.String("ice-user", "", "TURN username")
	pass := flag.String("ice-pass", os.Getenv("AVLINK_TURN_PASSWORD"), "TURN password (default $AVLINK_TURN_PASSWORD)")
	return func() []rtclink.ICEServer {
		var out []rtclink.ICEServer
		for _, u := range urls {
			s := rtclink.ICEServer{URLs: []string{u}}
			if strings.HasPrefix(u, "turn") {
				s.Username, s.Credential = *user, *pass
			}
			out = append(out, s)
		}
		return out
	}
}

type listFlag []string

// signalURLs splits a -signal value, one URL or several separated by
// commas, into the URL to dial first and the fallbacks.
func signalURLs(v string) (first string, fallback []string) {
	urls := strings.Split(v, ",")
	for i := range urls {
		urls[i] = strings.TrimSpace(urls[i])
	}
	return urls[0], urls[1:]
}

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// Logger returns a text logger on stderr, at debug level when verbose.
func Logger(verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// Report logs the session's stats every five seconds while it has a peer
// connection, until ctx ends.
func Report(ctx context.Context, s rtclink.Session, log *slog.Logger) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.Done():
			return
		case <-t.C:
		}
		if st := s.Stats(); st.State != rtclink.StateNone {
			log.Info("stats", "session", st)
		}
	}
}

// Run joins room on the signaling server, runs a session with cfg until
// Ctrl-C or SIGTERM, reporting its stats, and closes it (which finishes
// any file sinks). Each of started is called with the session once it is
// made (a teleop.Robot's Attach, say).
func Run(cfg rtclink.Config, sigURL, room, token string, log *slog.Logger, started ...func(rtclink.Session)) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	WaitEncoders(ctx, cfg, log)
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	first, fallback := signalURLs(sigURL)
	sig, err := wsclient.Dial(dctx, first, room, &wsclient.DialOptions{Token: token, Logger: log, FallbackURLs: fallback})
	if err != nil {
		return err
	}
	defer sig.Close()
	log.Info("connected to the signaling server", "url", sigURL, "room", room, "announces_peers", sig.AcknowledgesJoins())
	cfg.Signaler = sig
	rec := recordStats(&cfg)
	s, err := rtclink.New(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	rec.follow(s)
	defer rec.write(log)
	for _, f := range started {
		f(s)
	}
	log.Info("session started, waiting for a peer", "room", room, "role", cfg.Role.String())
	Report(ctx, s, log)
	if ctx.Err() == nil {
		// The session ended by itself: its signaling stopped for good.
		return s.Err()
	}
	return nil
}

// encoderWait bounds how long a program waits for its video encoders to
// set themselves up before it joins its room.
const encoderWait = 2 * time.Second

// WaitEncoders waits, at most 2 s, for those of cfg's video encoders that
// set themselves up in the background (capture/vp8 given the frame size),
// so that the program joins its room when it can send a picture at once:
// a viewer already there gets its first picture within the time the call
// takes to connect, not after libvpx's tens of milliseconds of set-up.
func WaitEncoders(ctx context.Context, cfg rtclink.Config, log *slog.Logger) {
	type preparing interface{ WaitPrepared(context.Context) error }
	var videos []*rtclink.VideoSender
	if cfg.Video != nil {
		videos = append([]*rtclink.VideoSender{cfg.Video}, cfg.MoreVideo...)
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, encoderWait)
	defer cancel()
	for _, v := range videos {
		p, ok := v.Encoder.(preparing)
		if !ok {
			continue
		}
		if err := p.WaitPrepared(wctx); err != nil {
			if ctx.Err() == nil {
				log.Warn("joining before the video encoder is set up", "waited", time.Since(start))
			}
			return
		}
	}
	log.Debug("video encoders set up before joining", "waited", time.Since(start))
}

// OneCoreForGo runs the program's Go code on one core (GOMAXPROCS 1)
// unless the GOMAXPROCS environment variable is set. For a program whose
// Go work is light (packets in and out) and whose codecs run in C, which
// this limit does not hold back, one core saves the runtime from waking
// idle threads for every packet: about a quarter of a receiver's CPU.
func OneCoreForGo() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

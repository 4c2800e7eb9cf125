// Command demo runs the whole system in one process: the signaling server
// with the viewer page, a STUN/TURN server, and a robot that sends its
// camera (or the moving stamped test pattern) and its microphone (or a
// tone), plays what it hears on its speaker (or logs its level) and logs
// the teleop commands it receives. Open the URL it prints.
//
// With -check it checks itself instead: it runs on free ports with the
// test pattern and a tone, opens the page in a headless Chromium whose
// fake microphone plays a 600 Hz tone, presses Talk and an arrow key,
// prints what it saw (frames decoded in the page, the capture-to-screen
// latency, the robot's audio level in the page, the pitch the robot hears
// back, the teleop round trip) and exits non-zero, naming what is
// missing, when any of it is.
//
//	bash ./examples/demo/run.sh                 # installs what it needs, then runs this
//	go run ./examples/demo -relay-only          # the robot's media through the TURN server
//	go run ./examples/demo -public robot.example.com
//	go run ./examples/demo -check               # the self-check (needs Chromium)
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/avlink/avlink/examples/internal/cli"
	"github.com/avlink/avlink/examples/internal/tlsserve"
	"github.com/avlink/avlink/internal/cdp"
	"github.com/avlink/avlink/internal/tune"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/viewer"
	"github.com/avlink/avlink/signal/wsserver"
	"github.com/avlink/avlink/turnsrv"
)

func main() {
	tune.Reexec()
	o := options{}
	flag.StringVar(&o.addr, "addr", ":8080", "address of the viewer page and the signaling server")
	flag.StringVar(&o.room, "room", "demo", "room the robot joins")
	flag.BoolVar(&o.relayOnly, "relay-only", false, "send the robot's media through the TURN server, to see it work")
	flag.StringVar(&o.camera, "camera", "auto", `"auto" (a camera if there is one, else the test pattern), "testpattern", "realsense" or a node such as /dev/video0`)
	flag.StringVar(&o.mic, "mic", "auto", `"auto" (the default microphone if there is one, else a tone), "tone", "none" or a device name`)
	flag.StringVar(&o.speaker, "speaker", "auto", `"auto" (the default speaker if there is one, else the level is logged), "none" or a device name`)
	flag.StringVar(&o.public, "public", "", "host name or address by which other machines reach this one: the URL and TURN settings use it")
	flag.IntVar(&o.turnPort, "turn-port", 3478, "TURN/STUN port (UDP and TCP)")
	check := flag.Bool("check", false, "check the demo with a headless Chromium, print what it saw, and exit (non-zero when something is missing)")
	chromium := flag.String("chromium", cdp.DefaultPath, "the Chromium binary -check runs")
	verbose := flag.Bool("v", false, "debug logs")
	flag.Parse()
	log := cli.Logger(*verbose)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *check {
		err = selfCheck(ctx, o, *chromium, os.Stdout, log)
	} else {
		err = run(ctx, o, os.Stdout, log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type options struct {
	addr, room, camera, mic, speaker, public string
	relayOnly                                bool
	turnPort                                 int
	// ready, when set, is called once the page is served and the robot
	// started, with the page's URL and what the robot hears.
	ready func(url string, heard *levelLog)
}

// run starts everything, prints the URL to out and waits for ctx.
func run(ctx context.Context, o options, out io.Writer, log *slog.Logger) error {
	host := o.public
	if host == "" {
		host = "localhost"
	}
	secret, err := newSecret()
	if err != nil {
		return err
	}

	// The TURN server: REST credentials minted from secret, for the page
	// (through /ice-servers) and the robot alike.
	turn, err := turnsrv.New(turnsrv.Config{
		ListeningPort: o.turnPort,
		AuthSecrets:   []string{secret},
		// The demo's robot and a browser on this machine meet on
		// loopback addresses, which a public TURN server would refuse.
		AllowLoopbackPeers: o.public == "",
		NoTLS:              true,
		Logger:             log.With("part", "turn"),
	})
	if err != nil {
		return fmt.Errorf("TURN server on port %d: %w (another TURN server running? try -turn-port)", o.turnPort, err)
	}
	defer turn.Close()
	turnHost := host
	if o.public == "" {
		turnHost = "127.0.0.1"
	}
	turnURLs := []string{
		"turn:" + net.JoinHostPort(turnHost, strconv.Itoa(o.turnPort)) + "?transport=udp",
		"turn:" + net.JoinHostPort(turnHost, strconv.Itoa(o.turnPort)) + "?transport=tcp",
	}
	stun := viewer.ICEServer{URLs: []string{"stun:" + net.JoinHostPort(turnHost, strconv.Itoa(o.turnPort))}}

	sig, err := wsserver.New(wsserver.Config{Logger: log.With("part", "signal")})
	if err != nil {
		return err
	}
	page, err := viewer.New(viewer.Config{ICEServers: []viewer.ICEServer{stun}, TURNSecret: secret, TURNURLs: turnURLs, Logger: log})
	if err != nil {
		return err
	}
	raw, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("viewer page on %s: %w (try -addr :8081)", o.addr, err)
	}
	port := raw.Addr().(*net.TCPAddr).Port
	var ln net.Listener = raw
	scheme, fp := "http", ""
	if o.public != "" {
		// A browser on another machine gets the microphone over HTTPS
		// only: serve it beside plain HTTP on the same port, with a
		// certificate made for the public name.
		cert, _, err := tlsserve.ServerCert("", "", o.public, time.Now())
		if err != nil {
			raw.Close()
			return err
		}
		either := tlsserve.NewEitherListener(raw, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
		defer either.Wait()
		ln, scheme, fp = either, "https", tlsserve.Fingerprint(cert)
	}
	hs := &http.Server{Handler: page.WithSignaling(sig), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = sig.Shutdown(sctx)
		_ = hs.Shutdown(sctx)
	}()

	url := fmt.Sprintf("%s://%s/?room=%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), o.room)
	fmt.Fprintf(out, "\n  Open %s\n\n", url)
	if o.public != "" {
		user, pass := turnsrv.RESTCredentials(secret, "robot", 24*time.Hour, time.Now())
		fmt.Fprintf(out, "  The certificate is made for %s on the spot: the browser asks once to accept it; its SHA-256 is %s.\n", o.public, fp)
		fmt.Fprintf(out, "  TURN for other programs: %s, %s (user %s, password %s, valid 24 h).\n", turnURLs[0], turnURLs[1], user, pass)
		fmt.Fprintf(out, "  Open TCP %d and UDP and TCP %d on this machine, and UDP 49152-65535 for the relay.\n\n", port, o.turnPort)
	}

	user, pass := turnsrv.RESTCredentials(secret, "robot", 24*time.Hour, time.Now())
	r := robot{
		opts:   o,
		signal: fmt.Sprintf("ws://127.0.0.1:%d/", port),
		ice:    []rtclink.ICEServer{{URLs: stun.URLs}, {URLs: turnURLs, Username: user, Credential: pass}},
		log:    log.With("part", "robot"),
		level:  newLevelLog(log.With("part", "robot")),
	}
	robotDone := make(chan error, 1)
	go func() { robotDone <- r.run(ctx) }()
	if o.ready != nil {
		o.ready(url, r.level)
	}

	select {
	case <-ctx.Done():
		log.Info("demo: stopping")
		if err := <-robotDone; !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	case err := <-served:
		return fmt.Errorf("viewer page: %w", err)
	case err := <-robotDone:
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
}

// newSecret makes the TURN server's shared secret for this run.
func newSecret() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

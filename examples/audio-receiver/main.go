// Command audio-receiver is the robot's audio receiver of the original
// deployment: it answers offers in its room and plays the audio it
// receives on a speaker, through a small jitter buffer that neither
// stutters on a late packet nor lets the delay grow.
//
//	go run ./examples/audio-receiver -list
//	go run ./examples/audio-receiver -signal ws://server:3000
//	go run ./examples/audio-receiver -device 0 -target 60ms
//
// It joins the room "audio" unless -room says otherwise, logs each phase
// of the connection, and every five seconds logs the level of what it
// receives (in dBFS) with the speaker's buffer and counters, so a headless
// machine shows that it hears something. With no output device at all it
// says so once and goes on receiving and reporting the level. Ctrl-C or
// SIGTERM closes the call and releases the device.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/avlink/avlink/examples/internal/cli"
	"github.com/avlink/avlink/playback"
	pbopus "github.com/avlink/avlink/playback/opus"
	"github.com/avlink/avlink/playback/speaker"
	"github.com/avlink/avlink/rtclink"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "audio-receiver:", err)
		os.Exit(1)
	}
}

func run() error {
	common := cli.Flags()
	cli.SetDefault("room", "audio")
	var (
		list     = flag.Bool("list", false, "list the output devices and exit")
		device   = flag.String("device", "", "output device: its index or part of its name (default: the system's default)")
		rate     = flag.Int("rate", 0, "device rate in Hz (0: 48000 where the device takes it; the original receiver used 44100)")
		channels = flag.Int("channels", 1, "device channels")
		block    = flag.Int("block", 0, "samples per channel the device takes at a time (0: 5 ms; the original receiver used 120)")
		latency  = flag.Duration("latency", 0, "output latency asked of the device (0: its default low latency)")
		target   = flag.Duration("target", 0, "audio gathered before playing, the margin against late packets (0: 40ms)")
		maxBuf   = flag.Duration("max-buffer", 0, "most audio held before the oldest is dropped (0: target + 60ms)")
		loopback = flag.Bool("loopback", false, "gather 127.0.0.1 candidates too, for a peer on this host when it has no other interface")
		every    = flag.Duration("level-every", 5*time.Second, "how often to log the received level")
	)
	flag.Parse()
	log := common.Logger()

	if *list {
		return listDevices(os.Stdout)
	}
	var sink playback.AudioSink = playback.Discard{}
	spk, err := speaker.Open(speaker.Config{Device: *device, Rate: *rate, Channels: *channels, BlockSize: *block,
		Latency: *latency, Target: *target, MaxBuffer: *maxBuf, Logger: log})
	switch {
	case errors.Is(err, speaker.ErrNoDevice):
		log.Warn("audio-receiver: no speaker, so only reporting what arrives", "err", err)
	case err != nil:
		return err
	default:
		sink = spk
		defer func() {
			_ = spk.Close()
			log.Info("audio-receiver: speaker released")
		}()
	}

	meter := &cli.Meter{}
	cfg := common.Config()
	cfg.IncludeLoopback = *loopback
	cfg.ReceiveAudio = &rtclink.AudioReceiver{NewDecoder: pbopus.Factory(pbopus.DecoderConfig{}), Sink: cli.MeteredSink{Sink: sink, Meter: meter}}
	cfg.OnState = cli.LogStates(log, "receiving audio")
	cfg.OnData = func(ch rtclink.Channel, data []byte) {
		log.Info("audio-receiver: data", "channel", ch, "text", string(data))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cli.ReportLevel(ctx, log, meter, *every, "audio-receiver: received", speakerState(spk))
	log.Info("audio-receiver: connecting to the signaling server", "url", flag.Lookup("signal").Value.String(), "room", flag.Lookup("room").Value.String())
	return common.Run(cfg)
}

// speakerState returns the speaker's buffer and counters for the level
// report, or nil without a speaker.
func speakerState(spk *speaker.Sink) func() []any {
	if spk == nil {
		return nil
	}
	return func() []any {
		st := spk.Stats()
		ms := func(n int64) time.Duration { return time.Duration(n) * time.Second / time.Duration(spk.Rate()) }
		return []any{slog.Duration("buffered", spk.Buffered()), "underruns", st.Underruns, "overruns", st.Overruns, "trims", st.Trims,
			"dropped", ms(st.Dropped), "played", ms(st.Played)}
	}
}

// listDevices prints the output devices, or says there are none.
func listDevices(w io.Writer) error {
	devs, err := speaker.Devices()
	if err != nil {
		return err
	}
	if len(devs) == 0 {
		fmt.Fprintln(w, "no output devices (PortAudio finds none)")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "index\tname\tchannels\tdefault rate\thost API\t")
	for _, d := range devs {
		def := ""
		if d.Default {
			def = "default"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d Hz\t%s\t%s\n", d.Index, d.Name, d.Channels, d.DefaultRate, d.HostAPI, def)
	}
	return tw.Flush()
}

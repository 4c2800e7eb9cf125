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
	"time"

	"github.com/avlink/avlink/examples/internal/cli"
	"github.com/avlink/avlink/internal/tune"
	"github.com/avlink/avlink/playback"
	pbopus "github.com/avlink/avlink/playback/opus"
	"github.com/avlink/avlink/playback/speaker"
	"github.com/avlink/avlink/rtclink"
)

func main() {
	tune.Reexec()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "audio-receiver:", err)
		os.Exit(1)
	}
}

func run() error {
	common := cli.Flags()
	cli.SetDefault("room", "audio")
	dev := cli.AudioDeviceFlags(cli.AudioUsage{
		Dir:           "output",
		DefaultDevice: "the system's default",
		Rate:          "device rate in Hz (0: 48000 where the device takes it; the original receiver used 44100)",
		Channels:      "device channels",
		Block:         "samples per channel the device takes at a time (0: 5 ms; the original receiver used 120)",
		LevelEvery:    "how often to log the received level",
	})
	var (
		target    = flag.Duration("target", 0, "audio gathered before playing, the margin against late packets; the least the buffer's target comes back to (0: 30ms)")
		maxTarget = flag.Duration("max-target", 0, "most the target rises to after underruns, 10 ms a time (0: target + 60ms; equal to -target keeps it fixed)")
		maxBuf    = flag.Duration("max-buffer", 0, "most audio held before the oldest is dropped (0: the target in force + 60ms)")
	)
	flag.Parse()
	log := common.Logger()

	if *dev.List {
		return listDevices(os.Stdout)
	}
	var sink playback.AudioSink = playback.Discard{}
	spk, err := speaker.Open(speaker.Config{Device: *dev.Device, Rate: *dev.Rate, Channels: *dev.Channels, BlockSize: *dev.Block,
		Latency: *dev.Latency, Target: *target, MaxTarget: *maxTarget, MaxBuffer: *maxBuf, Logger: log})
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
	cfg.IncludeLoopback = *dev.Loopback
	cfg.ReceiveAudio = &rtclink.AudioReceiver{NewDecoder: pbopus.Factory(pbopus.DecoderConfig{}), Sink: cli.MeteredSink{Sink: sink, Meter: meter}}
	cfg.OnState = cli.LogStates(log, "receiving audio")
	cfg.OnData = func(ch rtclink.Channel, data []byte) {
		log.Info("audio-receiver: data", "channel", ch, "text", string(data))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cli.ReportLevel(ctx, log, meter, *dev.LevelEvery, "audio-receiver: received", speakerState(spk))
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
	return cli.ListAudioDevices(w, "output", devs)
}

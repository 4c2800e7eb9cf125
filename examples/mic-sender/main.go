// Command mic-sender is the PC's microphone sender of the original
// deployment: it captures a microphone and offers it, Opus-encoded, to
// whoever joins its room. Like the original deployment's Python
// microphone sender it lists the input devices and asks for one when run
// in a terminal without -device; unlike it, it runs on Linux, macOS and
// Windows, and captures at 48 kHz unless told otherwise, so Opus needs no
// resampling.
//
//	go run ./examples/mic-sender -list
//	go run ./examples/mic-sender -signal ws://server:3000 -device 3
//	go run ./examples/mic-sender -device usb -rate 44100 -block 120   # as the original captured
//
// It joins the room "audio" unless -room says otherwise, logs each phase
// of the connection and the microphone's level every five seconds, and
// on Ctrl-C or SIGTERM closes the call and releases the device.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/avlink/avlink/capture/mic"
	capopus "github.com/avlink/avlink/capture/opus"
	"github.com/avlink/avlink/examples/internal/cli"
	"github.com/avlink/avlink/internal/tune"
	"github.com/avlink/avlink/rtclink"
)

func main() {
	tune.Reexec()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mic-sender:", err)
		os.Exit(1)
	}
}

func run() error {
	common := cli.Flags()
	cli.SetDefault("room", "audio")
	dev := cli.AudioDeviceFlags(cli.AudioUsage{
		Dir:           "input",
		DefaultDevice: "ask in a terminal, else the system's default",
		Rate:          "capture rate in Hz (0: 48000 where the device takes it; the original sender used 44100)",
		Channels:      "channels to capture",
		Block:         "samples per channel per block (0: 10 ms; the original sender used 120)",
		LevelEvery:    "how often to log the microphone's level",
	})
	bitrate := flag.Int("bitrate", 0, "Opus bitrate in bit/s (0: libopus chooses)")
	flag.Parse()
	log := common.Logger()

	if *dev.List {
		return listDevices(os.Stdout)
	}
	spec := *dev.Device
	if spec == "" && cli.Interactive(os.Stdin) {
		var err error
		if spec, err = ask(os.Stdin, os.Stderr); err != nil {
			return err
		}
	}
	src, err := mic.Open(mic.Config{Device: spec, Rate: *dev.Rate, Channels: *dev.Channels, BlockSize: *dev.Block, Latency: *dev.Latency, Logger: log})
	if errors.Is(err, mic.ErrNoDevice) {
		return fmt.Errorf("no microphone to send: %w (-list shows the devices)", err)
	}
	if err != nil {
		return err
	}
	defer func() {
		_ = src.Close()
		log.Info("mic-sender: microphone released")
	}()
	enc, err := capopus.NewEncoder(capopus.EncoderConfig{FEC: true, Bitrate: *bitrate, Logger: log})
	if err != nil {
		return err
	}
	defer enc.Close()

	meter := &cli.Meter{}
	cfg := common.Config()
	cfg.IncludeLoopback = *dev.Loopback
	cfg.Role = rtclink.Offerer
	cfg.Audio = &rtclink.AudioSender{Source: cli.MeteredSource{Source: src, Meter: meter}, Encoder: enc}
	cfg.OnState = cli.LogStates(log, "sending the microphone")
	cfg.OnData = func(ch rtclink.Channel, data []byte) {
		log.Info("mic-sender: data", "channel", ch, "text", string(data))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cli.ReportLevel(ctx, log, meter, *dev.LevelEvery, "mic-sender: microphone", func() []any {
		st := src.Stats()
		return []any{"device", src.Device().Name, "device_overruns", st.DeviceOverruns,
			"dropped", time.Duration(st.Dropped) * time.Second / time.Duration(src.Rate())}
	})
	log.Info("mic-sender: connecting to the signaling server", "url", flag.Lookup("signal").Value.String(), "room", flag.Lookup("room").Value.String())
	return common.Run(cfg)
}

// listDevices prints the input devices, or says there are none.
func listDevices(w io.Writer) error {
	devs, err := mic.Devices()
	if err != nil {
		return err
	}
	return cli.ListAudioDevices(w, "input", devs)
}

// ask lists the input devices and asks for one, as the original
// deployment's Python microphone sender did. An empty answer is the
// default device.
func ask(in io.Reader, out io.Writer) (string, error) {
	devs, err := mic.Devices()
	if err != nil || len(devs) == 0 {
		return "", err // Open reports that there is no device
	}
	if err := listDevices(out); err != nil {
		return "", err
	}
	return cli.Ask(in, out, "Microphone index or name (Enter for the default): ")
}

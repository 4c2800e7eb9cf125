// Command sender stands in for the Python aiortc robot without its
// hardware: it offers video and audio to whoever joins its room, from a
// test pattern and a tone or from files. It opens the viewer page's
// teleop channel (rtclink/teleop), logs each command and echoes it.
//
//	go run ./examples/sender -signal ws://localhost:3000 -room realsense
//	go run ./examples/sender -video clip.y4m -audio speech.wav
//	go run ./examples/sender -video camera.h264        # pre-encoded, passed through
//	go run ./examples/sender -viewers 4                # four viewers at once, encoded once
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/filesrc"
	"github.com/avlink/avlink/capture/h264"
	capopus "github.com/avlink/avlink/capture/opus"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/examples/internal/avdev"
	"github.com/avlink/avlink/examples/internal/cli"
	"github.com/avlink/avlink/internal/tune"
	"github.com/avlink/avlink/rtclink"
)

func main() {
	tune.Reexec()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sender:", err)
		os.Exit(1)
	}
}

func run() error {
	common := cli.Flags()
	var (
		video   = flag.String("video", "pattern", `"pattern", "none", or a .y4m, .ivf or .h264 file`)
		audio   = flag.String("audio", "tone", `"tone", "none", or a .wav or .ogg file`)
		size    = flag.String("size", "640x480", "test pattern size")
		bitrate = flag.Int("bitrate", 500_000, "start video bitrate (bit/s)")
		loop    = flag.Bool("loop", true, "repeat .h264 files")
		viewers = flag.Int("viewers", 1, "viewers served at once; above 1 video and audio are encoded once for all, and one viewer drives at a time (the first, then whoever asks)")
	)
	flag.Parse()
	log := common.Logger()

	if *viewers < 1 {
		return fmt.Errorf("-viewers %d: at least 1", *viewers)
	}
	cfg := common.Config()
	cfg.Role = rtclink.Offerer
	cfg.OnData = func(ch rtclink.Channel, data []byte) {
		log.Info("sender: data", "channel", ch, "text", string(data))
	}
	var err error
	if cfg.Video, err = videoSender(*video, *size, *bitrate, *loop, log); err != nil {
		return err
	}
	if cfg.Audio, err = audioSender(*audio); err != nil {
		return err
	}
	if *viewers > 1 {
		tcfg := cli.TeleopConfig(log)
		return common.RunViewers(cfg, *viewers, &tcfg)
	}
	tp, err := cli.TeleopRobot(log)
	if err != nil {
		return err
	}
	defer tp.Close()
	tp.Wire(&cfg)
	return common.Run(cfg, func(s rtclink.Session) { tp.Attach(s) })
}

func videoSender(spec, size string, bitrate int, loop bool, log *slog.Logger) (*rtclink.VideoSender, error) {
	switch ext := strings.ToLower(filepath.Ext(spec)); {
	case spec == "none":
		return nil, nil
	case ext == ".ivf":
		src, err := filesrc.OpenIVF(spec, filesrc.Config{})
		return &rtclink.VideoSender{Samples: src}, err
	case ext == ".h264" || ext == ".264":
		src, err := h264.OpenFile(spec, h264.FileSourceConfig{Loop: loop, Logger: log})
		return &rtclink.VideoSender{Samples: src}, err
	}
	var src capture.VideoSource
	var err error
	if spec == "pattern" {
		var w, h int
		if _, err := fmt.Sscanf(size, "%dx%d", &w, &h); err != nil {
			return nil, fmt.Errorf("-size %q: want WIDTHxHEIGHT", size)
		}
		src, err = synth.NewPattern(synth.PatternConfig{Width: w, Height: h})
	} else if strings.EqualFold(filepath.Ext(spec), ".y4m") {
		src, err = filesrc.OpenY4M(spec, filesrc.Config{})
	} else {
		return nil, fmt.Errorf("-video %q: not pattern, none, .y4m, .ivf or .h264", spec)
	}
	if err != nil {
		return nil, err
	}
	enc, err := avdev.VP8Encoder(src, vp8.EncoderConfig{Bitrate: bitrate, Logger: log})
	if err != nil {
		return nil, errors.Join(err, src.Close())
	}
	return &rtclink.VideoSender{Source: src, Encoder: enc, StartBitrate: bitrate}, nil
}

func audioSender(spec string) (*rtclink.AudioSender, error) {
	switch strings.ToLower(filepath.Ext(spec)) {
	case ".ogg", ".opus":
		src, err := filesrc.OpenOgg(spec, filesrc.Config{})
		return &rtclink.AudioSender{Samples: src}, err
	}
	var src capture.AudioSource
	var err error
	switch {
	case spec == "none":
		return nil, nil
	case spec == "tone":
		src, err = synth.NewTone(synth.ToneConfig{Frequency: 440})
	case strings.EqualFold(filepath.Ext(spec), ".wav"):
		src, err = filesrc.OpenWAV(spec, filesrc.Config{})
	default:
		return nil, fmt.Errorf("-audio %q: not tone, none, .wav or .ogg", spec)
	}
	if err != nil {
		return nil, err
	}
	// FEC lets the receiver rebuild a lost packet from the next one.
	// With it libopus's default complexity costs about five times the
	// CPU of plain encoding; complexity 5, as libwebrtc uses on phones,
	// costs less than half of that and suits a robot's small computer.
	enc, err := capopus.NewEncoder(capopus.EncoderConfig{FEC: true, Complexity: 5})
	if err != nil {
		return nil, errors.Join(err, src.Close())
	}
	return &rtclink.AudioSender{Source: src, Encoder: enc}, nil
}

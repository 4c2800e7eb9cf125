package main

import (
	"errors"
	"flag"
	"log/slog"

	"github.com/avlink/avlink/capture/mic"
	"github.com/avlink/avlink/examples/internal/avdev"
	"github.com/avlink/avlink/examples/internal/cli"
	"github.com/avlink/avlink/playback/speaker"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/rtclink/teleop"
)

// audioOptions are the microphone's and the speaker's flags.
type audioOptions struct{ mic, speaker string }

func audioFlags() *audioOptions {
	o := &audioOptions{}
	flag.StringVar(&o.mic, "mic", "default", `microphone to send: "default", part of a device's name (see mic-sender -list), or "none"`)
	flag.StringVar(&o.speaker, "speaker", "default", `speaker for what the viewer says: "default", part of a device's name, or "none"`)
	return o
}

// audioSender opens the microphone, captured as the original deployment's
// Python robot captured it (44.1 kHz mono in 120-sample blocks; the
// session resamples), with an Opus encoder. Without a microphone it says
// so once and the robot goes on without audio (nil, nil).
func (o *audioOptions) audioSender(devs *devices, log *slog.Logger) (*rtclink.AudioSender, error) {
	if o.mic == "none" {
		return nil, nil
	}
	src, err := mic.Open(mic.Config{Device: o.mic, Rate: 44100, Channels: 1, BlockSize: 120, Logger: log})
	if errors.Is(err, mic.ErrNoDevice) {
		log.Warn("microphone: none here, sending no audio", "err", err)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	devs.add("microphone", src)
	log.Info("microphone: capturing", "device", src.Device().Name, "rate", src.Rate())
	return avdev.OpusSender(src, log)
}

// audioReceiver plays what the viewer says on the speaker. Without a
// speaker it says so once and the robot ignores the viewer's audio.
func (o *audioOptions) audioReceiver(devs *devices, log *slog.Logger) (*rtclink.AudioReceiver, error) {
	if o.speaker == "none" {
		return nil, nil
	}
	sink, err := speaker.Open(speaker.Config{Device: o.speaker, Logger: log})
	if errors.Is(err, speaker.ErrNoDevice) {
		log.Warn("speaker: none here, not playing what the viewer says", "err", err)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	log.Info("speaker: ready", "device", sink.Device().Name)
	// The session closes its sink; devs only reports it.
	return avdev.OpusReceiver(sink), nil
}

// teleopRobot logs the viewer page's commands and the robot's own
// stops, and wires them into cfg. A robot's motor controller would take
// them here.
func teleopRobot(cfg *rtclink.Config, log *slog.Logger) (*teleop.Robot, error) {
	tp, err := cli.TeleopRobot(log)
	if err != nil {
		return nil, err
	}
	tp.Wire(cfg)
	return tp, nil
}

// Package avdev opens the robot's devices the way the example programs
// share: the camera named by a -camera flag, and the Opus ends that carry
// the microphone to the viewer and the viewer's voice to the speaker.
// Which fallback a program takes when a device is missing, and what it
// logs, stays with the program.
package avdev

import (
	"log/slog"
	"strings"

	"github.com/avlink/avlink/capture"
	capopus "github.com/avlink/avlink/capture/opus"
	"github.com/avlink/avlink/capture/v4l2"
	"github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/playback"
	pbopus "github.com/avlink/avlink/playback/opus"
	"github.com/avlink/avlink/rtclink"
)

// OpenCamera opens the V4L2 camera spec names: a node path such as
// /dev/video4, or part of a card name to look for (see [CardName]). found
// is the node looked up by name, set even when opening it fails, so that
// a program can say which node it tried; it is nil for a path.
func OpenCamera(spec string, cfg v4l2.Config) (cam *v4l2.Camera, found *v4l2.DeviceInfo, err error) {
	path := spec
	if !strings.HasPrefix(path, "/") {
		d, err := v4l2.Find(CardName(spec))
		if err != nil {
			return nil, nil, err
		}
		found, path = &d, d.Path
	}
	cam, err = v4l2.Open(path, cfg)
	return cam, found, err
}

// VP8Encoder returns a VP8 encoder for src's frames. When src knows its
// frame size ahead (a camera, the test pattern, a .y4m file), the encoder
// sets libvpx up at once, in the background, while the program connects,
// instead of on the first frame a viewer waits for.
func VP8Encoder(src capture.VideoSource, cfg vp8.EncoderConfig) (*vp8.Encoder, error) {
	if s, ok := src.(interface{ Size() (width, height int) }); ok && cfg.Width == 0 {
		cfg.Width, cfg.Height = s.Size()
	}
	return vp8.NewEncoder(cfg)
}

// CardName is the card name a -camera value that is not a path looks
// for: the value itself, spelled "RealSense" when it is "realsense" in any
// case, as Intel names its cameras' nodes.
func CardName(spec string) string {
	if strings.EqualFold(spec, "realsense") {
		return "RealSense"
	}
	return spec
}

// OpusSender sends src through an Opus encoder with in-band FEC, which
// rebuilds a lost packet from the next one, at complexity 5, which keeps
// its cost low on a robot's computer; the encoder logs to log. On an
// error src stays open.
func OpusSender(src capture.AudioSource, log *slog.Logger) (*rtclink.AudioSender, error) {
	enc, err := capopus.NewEncoder(capopus.EncoderConfig{FEC: true, Complexity: 5, Logger: log})
	if err != nil {
		return nil, err
	}
	return &rtclink.AudioSender{Source: src, Encoder: enc}, nil
}

// OpusReceiver decodes the peer's Opus audio into sink.
func OpusReceiver(sink playback.AudioSink) *rtclink.AudioReceiver {
	return &rtclink.AudioReceiver{NewDecoder: pbopus.Factory(pbopus.DecoderConfig{}), Sink: sink}
}

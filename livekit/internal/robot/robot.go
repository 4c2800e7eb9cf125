// Package robot builds what a robot sends, for the commands of this
// module: a camera (a V4L2 node, or the stamped test pattern) through
// the VP8 encoder, and a tone through Opus in place of a microphone.
package robot

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/opus"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/capture/v4l2"
	"github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/rtclink"
)

// TestPattern is the Camera value for the stamped test pattern.
const TestPattern = "testpattern"

// Config says what to send.
type Config struct {
	// Camera is a video node such as /dev/video0, or TestPattern.
	Camera string
	// Width, Height and FPS are the frame size and rate. A camera must
	// offer them.
	Width, Height, FPS int
	// Bitrate is the video encoder's bitrate in bit/s.
	Bitrate int
	// Tone is the frequency of the tone sent as audio, in Hz.
	Tone float64
	// Logger receives the camera's messages.
	Logger *slog.Logger
}

// Senders opens the camera and the encoders. The senders own them: the
// session they are given to closes them.
func Senders(cfg Config) (*rtclink.VideoSender, *rtclink.AudioSender, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	var src capture.VideoSource
	switch {
	case cfg.Camera == "" || cfg.Camera == TestPattern:
		p, err := synth.NewPattern(synth.PatternConfig{Width: cfg.Width, Height: cfg.Height, FPS: cfg.FPS})
		if err != nil {
			return nil, nil, err
		}
		src = p
	case strings.HasPrefix(cfg.Camera, "/dev/"):
		cam, err := v4l2.Open(cfg.Camera, v4l2.Config{Width: cfg.Width, Height: cfg.Height, FPS: cfg.FPS, Logger: log})
		if err != nil {
			return nil, nil, fmt.Errorf("camera %s: %w (-camera %s sends the test pattern without one)", cfg.Camera, err, TestPattern)
		}
		log.Info("camera: streaming", "node", cfg.Camera, "card", cam.Info().Card, "mode", cam.Mode().String())
		src = cam
	default:
		return nil, nil, fmt.Errorf("camera %q: want a video node such as /dev/video0, or %s", cfg.Camera, TestPattern)
	}
	venc, err := vp8.NewEncoder(vp8.EncoderConfig{FrameRate: cfg.FPS})
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	tone, err := synth.NewTone(synth.ToneConfig{Frequency: cfg.Tone, Amplitude: 0.3})
	if err != nil {
		src.Close()
		venc.Close()
		return nil, nil, err
	}
	aenc, err := opus.NewEncoder(opus.EncoderConfig{})
	if err != nil {
		src.Close()
		venc.Close()
		tone.Close()
		return nil, nil, err
	}
	video := &rtclink.VideoSender{Source: src, Encoder: venc, StartBitrate: cfg.Bitrate, MinBitrate: min(cfg.Bitrate, 100_000), MaxBitrate: max(cfg.Bitrate, 2_500_000)}
	return video, &rtclink.AudioSender{Source: tone, Encoder: aenc}, nil
}

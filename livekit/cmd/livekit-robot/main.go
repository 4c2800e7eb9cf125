// Command livekit-robot sends the stamped test pattern and a tone into a
// LiveKit room, as a robot would send its camera and microphone, and logs
// the data messages the room sends it.
//
//	livekit-robot -url ws://127.0.0.1:7880 -key devkey -secret secret -room robots
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/avlink/avlink/capture/opus"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/livekit"
	"github.com/avlink/avlink/rtclink"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "livekit-robot:", err)
		os.Exit(1)
	}
}

func run() error {
	url := flag.String("url", "ws://127.0.0.1:7880", "LiveKit server URL")
	key := flag.String("key", os.Getenv("LIVEKIT_API_KEY"), "API key (default $LIVEKIT_API_KEY)")
	secret := flag.String("secret", os.Getenv("LIVEKIT_API_SECRET"), "API secret (default $LIVEKIT_API_SECRET)")
	room := flag.String("room", "robots", "room to join")
	identity := flag.String("identity", "robot", "participant identity")
	width := flag.Int("width", 640, "video width")
	height := flag.Int("height", 480, "video height")
	fps := flag.Int("fps", 30, "video frame rate")
	bitrate := flag.Int("bitrate", 1_000_000, "video bitrate in bit/s")
	tone := flag.Float64("tone", 440, "tone frequency in Hz")
	debug := flag.Bool("debug", false, "log LiveKit's and pion's messages too")
	flag.Parse()

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	livekit.SetSDKLogger(log)

	pattern, err := synth.NewPattern(synth.PatternConfig{Width: *width, Height: *height, FPS: *fps})
	if err != nil {
		return err
	}
	venc, err := vp8.NewEncoder(vp8.EncoderConfig{FrameRate: *fps})
	if err != nil {
		return err
	}
	src, err := synth.NewTone(synth.ToneConfig{Frequency: *tone, Amplitude: 0.3})
	if err != nil {
		return err
	}
	aenc, err := opus.NewEncoder(opus.EncoderConfig{})
	if err != nil {
		return err
	}
	s, err := livekit.New(livekit.Config{
		URL: *url, APIKey: *key, APISecret: *secret, Room: *room, Identity: *identity,
		Video:  &rtclink.VideoSender{Source: pattern, Encoder: venc, StartBitrate: *bitrate, MaxBitrate: max(*bitrate, 2_500_000)},
		Audio:  &rtclink.AudioSender{Source: src, Encoder: aenc},
		Logger: log,
		OnData: func(ch rtclink.Channel, data []byte) {
			log.Info("data", "channel", ch, "bytes", len(data), "text", string(data))
		},
	})
	if err != nil {
		return err
	}
	defer s.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return s.Close()
		case <-s.Done():
			return s.Err()
		case <-tick.C:
			st := s.Stats()
			log.Info("sending", "state", st.State, "viewers", st.Room.Peers, "fps", fmt.Sprintf("%.1f", st.VideoOut.FPS),
				"frames", st.VideoOut.FramesSent, "audio_frames", st.AudioOut.FramesSent)
		}
	}
}

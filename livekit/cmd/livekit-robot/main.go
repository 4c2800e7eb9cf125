// Command livekit-robot sends a camera (or the stamped test pattern) and
// a tone into a LiveKit room, as a robot would send its camera and
// microphone, and logs the data messages the room sends it.
//
//	livekit-robot -url ws://127.0.0.1:7880 -key devkey -secret secret -room robots
//	livekit-robot -camera /dev/video0 -url wss://lk.example.com -room yard
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

	"github.com/avlink/avlink/livekit"
	"github.com/avlink/avlink/livekit/internal/robot"
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
	camera := flag.String("camera", robot.TestPattern, "a video node such as /dev/video0, or "+robot.TestPattern+" (the stamped test pattern)")
	debug := flag.Bool("debug", false, "log LiveKit's and pion's messages too")
	flag.Parse()

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	livekit.SetSDKLogger(log)

	video, audio, err := robot.Senders(robot.Config{
		Camera: *camera, Width: *width, Height: *height, FPS: *fps, Bitrate: *bitrate, Tone: *tone, Logger: log,
	})
	if err != nil {
		return err
	}
	s, err := livekit.New(livekit.Config{
		URL: *url, APIKey: *key, APISecret: *secret, Room: *room, Identity: *identity,
		Video: video, Audio: audio,
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

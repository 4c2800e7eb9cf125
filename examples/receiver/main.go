// Command receiver is the viewer's (or the speaker's) side without a
// screen: it answers offers in its room and records what arrives, or only
// reports it.
//
//	go run ./examples/receiver -room realsense -video-out robot.ivf -audio-out robot.wav
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/avlink/avlink/examples/internal/cli"
	"github.com/avlink/avlink/internal/tune"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/playback/filesink"
	pbopus "github.com/avlink/avlink/playback/opus"
	pbvp8 "github.com/avlink/avlink/playback/vp8"
	"github.com/avlink/avlink/rtclink"
)

func main() {
	tune.Reexec()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(1)
	}
}

func run() error {
	cli.OneCoreForGo()
	common := cli.Flags()
	var (
		videoOut = flag.String("video-out", "", "write video to a .ivf (as received) or .y4m (decoded) file")
		audioOut = flag.String("audio-out", "", "write audio to a .wav (decoded) or .ogg (as received) file")
	)
	flag.Parse()
	log := common.Logger()

	cfg := common.Config()
	vdec := pbvp8.Factory(pbvp8.DecoderConfig{Logger: log})
	adec := pbopus.Factory(pbopus.DecoderConfig{})

	switch ext := strings.ToLower(filepath.Ext(*videoOut)); {
	case *videoOut == "":
		cfg.ReceiveVideo = &rtclink.VideoReceiver{NewDecoder: vdec, Sink: playback.Discard{}}
	case ext == ".ivf":
		sink, err := filesink.CreateIVF(*videoOut, filesink.IVFConfig{})
		if err != nil {
			return err
		}
		cfg.ReceiveVideo = &rtclink.VideoReceiver{Sink: sink}
	case ext == ".y4m":
		sink, err := filesink.CreateY4M(*videoOut, filesink.Y4MConfig{})
		if err != nil {
			return err
		}
		cfg.ReceiveVideo = &rtclink.VideoReceiver{NewDecoder: vdec, Sink: sink}
	default:
		return fmt.Errorf("-video-out %q: want a .ivf or .y4m file", *videoOut)
	}
	switch ext := strings.ToLower(filepath.Ext(*audioOut)); {
	case *audioOut == "":
		cfg.ReceiveAudio = &rtclink.AudioReceiver{NewDecoder: adec, Sink: playback.Discard{}}
	case ext == ".wav":
		sink, err := filesink.CreateWAV(*audioOut)
		if err != nil {
			return err
		}
		cfg.ReceiveAudio = &rtclink.AudioReceiver{NewDecoder: adec, Sink: sink}
	case ext == ".ogg" || ext == ".opus":
		sink, err := filesink.CreateOgg(*audioOut, filesink.OggConfig{})
		if err != nil {
			return err
		}
		cfg.ReceiveAudio = &rtclink.AudioReceiver{Sink: sink}
	default:
		return fmt.Errorf("-audio-out %q: want a .wav or .ogg file", *audioOut)
	}

	return common.Run(cfg)
}

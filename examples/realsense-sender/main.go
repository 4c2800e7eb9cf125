// Command realsense-sender is the robot: it sends its camera's video and
// its microphone to whoever joins its room, as the original deployment's
// Python aiortc robot sent its RealSense colour stream — here straight
// from V4L2, with no vendor SDK — plays what the viewer says on its
// speaker, and logs (and echoes) the viewer page's teleop commands.
//
//	go run ./examples/realsense-sender -signal ws://server:3000 -room realsense
//	go run ./examples/realsense-sender -camera /dev/video4 -size 1280x720 -fps 15
//	go run ./examples/realsense-sender -camera testpattern    # no camera: the stamped test pattern
//	go run ./examples/realsense-sender -list-cameras
//	go run ./examples/realsense-sender -depth realsense       # and the depth picture, as a second track
//	go run ./examples/realsense-sender -mic none -speaker "USB Audio"
//	go run ./examples/realsense-sender -viewers 3             # three viewers at once
//
// It logs each phase of the connection, and stops within a moment of
// Ctrl-C or SIGTERM, releasing its devices. A device that fails (a camera
// unplugged) ends it with an error, so a supervisor can restart it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/avlink/avlink/examples/internal/cli"
	"github.com/avlink/avlink/internal/tune"
	"github.com/avlink/avlink/rtclink"
)

func main() {
	tune.Reexec()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "realsense-sender:", err)
		os.Exit(1)
	}
}

func run() error {
	common := cli.Flags()
	camera := cameraFlags()
	depthCam := depthFlags()
	audio := audioFlags()
	loopback := flag.Bool("loopback", false, "gather 127.0.0.1 candidates too, for a viewer on this machine with no other network")
	viewers := flag.Int("viewers", 1, "viewers served at once; above 1 the camera and microphone are encoded once for all, what they say is mixed on the speaker, and one drives at a time")
	flag.Parse()
	log := common.Logger()
	if camera.list {
		return listCameras(os.Stdout)
	}
	if *viewers < 1 {
		return fmt.Errorf("-viewers %d: at least 1", *viewers)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal a second one ends the program at once.
	context.AfterFunc(ctx, stop)

	devs := newDevices(log)
	defer devs.closeAll()

	cfg := common.Config()
	cfg.Role = rtclink.Offerer
	cfg.IncludeLoopback = *loopback
	video, err := camera.videoSender(devs, log)
	if err != nil {
		return err
	}
	cfg.Video = video
	dv, err := depthCam.videoSender(devs, log)
	if err != nil {
		return err
	}
	if dv != nil {
		video.Name = "colour"
		cfg.MoreVideo = append(cfg.MoreVideo, dv)
	}
	if cfg.Audio, err = audio.audioSender(devs, log); err != nil {
		return err
	}
	if cfg.ReceiveAudio, err = audio.audioReceiver(devs, log); err != nil {
		return err
	}
	if *viewers > 1 {
		tcfg := cli.TeleopConfig(log)
		return common.RunViewers(cfg, *viewers, &tcfg)
	}
	tp, err := teleopRobot(&cfg, log)
	if err != nil {
		return err
	}
	defer tp.Close()
	return serve(ctx, cfg, devs, log, func(s rtclink.Session) { tp.Attach(s) })
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/capture/v4l2"
	"github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/examples/internal/avdev"
	"github.com/avlink/avlink/rtclink"
)

// testPattern is the -camera value for the stamped test pattern.
const testPattern = "testpattern"

// cameraOptions are the camera's flags.
type cameraOptions struct {
	spec, size, format string
	fps, bitrate       int
	list               bool
}

func cameraFlags() *cameraOptions {
	o := &cameraOptions{}
	flag.StringVar(&o.spec, "camera", "realsense",
		`"realsense" (its colour node, found by card name), a node such as /dev/video4, another card name to look for, or "testpattern" (the stamped test pattern, no camera)`)
	flag.StringVar(&o.size, "size", "", "frame size WIDTHxHEIGHT (default 640x480, or the camera's size nearest to it)")
	flag.IntVar(&o.fps, "fps", 0, "frame rate (default 30, or the camera's rate nearest to it)")
	flag.StringVar(&o.format, "format", "", "camera pixel format: yuyv, mjpeg, nv12, rgb24 or bgr24 (default: the cheapest offered at that size and rate)")
	flag.IntVar(&o.bitrate, "bitrate", 500_000, "start video bitrate (bit/s)")
	flag.BoolVar(&o.list, "list-cameras", false, "list the video nodes with their card names, formats and sizes, and exit")
	return o
}

// videoSender opens the camera and a VP8 encoder for it. The camera is
// registered with devs.
func (o *cameraOptions) videoSender(devs *devices, log *slog.Logger) (*rtclink.VideoSender, error) {
	src, err := o.open(log)
	if err != nil {
		return nil, err
	}
	watched := devs.addVideo("camera", src)
	enc, err := avdev.VP8Encoder(src, vp8.EncoderConfig{Bitrate: o.bitrate, Logger: log})
	if err != nil {
		return nil, err
	}
	return &rtclink.VideoSender{Source: watched, Encoder: enc, StartBitrate: o.bitrate}, nil
}

// open opens what -camera names.
func (o *cameraOptions) open(log *slog.Logger) (capture.VideoSource, error) {
	var w, h int
	if o.size != "" {
		if _, err := fmt.Sscanf(o.size, "%dx%d", &w, &h); err != nil || w <= 0 || h <= 0 {
			return nil, fmt.Errorf("-size %q: want WIDTHxHEIGHT, such as 640x480", o.size)
		}
	}
	if o.fps < 0 {
		return nil, fmt.Errorf("-fps %d: want a positive rate", o.fps)
	}
	if o.spec == testPattern {
		if w == 0 {
			w, h = 640, 480
		}
		p, err := synth.NewPattern(synth.PatternConfig{Width: w, Height: h, FPS: o.fps})
		if err != nil {
			return nil, err
		}
		fps := o.fps
		if fps == 0 {
			fps = 30
		}
		log.Info("camera: sending the stamped test pattern", "size", fmt.Sprintf("%dx%d", w, h), "fps", fps)
		return p, nil
	}
	cfg := v4l2.Config{Width: w, Height: h, FPS: o.fps, Logger: log}
	if o.format != "" {
		f, err := v4l2.ParseFourCC(o.format)
		if err != nil {
			return nil, fmt.Errorf("-format: %w", err)
		}
		cfg.Formats = []v4l2.FourCC{f}
	}
	cam, found, err := avdev.OpenCamera(o.spec, cfg)
	path := o.spec
	if found != nil {
		log.Info("camera: found", "name", avdev.CardName(o.spec), "node", found.Path, "card", found.Card)
		path = found.Path
	}
	if err != nil {
		return nil, noCamera(err)
	}
	log.Info("camera: streaming", "node", path, "card", cam.Info().Card, "mode", cam.Mode().String())
	return cam, nil
}

// noCamera says how to go on without the camera that could not be opened.
func noCamera(err error) error {
	hint := "-list-cameras lists the cameras; -camera " + testPattern + " sends the test pattern without one"
	if errors.Is(err, v4l2.ErrBusy) {
		hint = "another program holds the camera; -camera " + testPattern + " sends the test pattern without it"
	}
	return fmt.Errorf("camera: %w\n%s", err, hint)
}

// listCameras writes every video node with its card name, formats and
// sizes.
func listCameras(w io.Writer) error {
	devs, err := v4l2.List()
	if err != nil {
		return err
	}
	if len(devs) == 0 {
		_, err := fmt.Fprintf(w, "no cameras: no video nodes (/dev/video*) on this machine; -camera %s sends the test pattern without one\n", testPattern)
		return err
	}
	for _, d := range devs {
		if _, err := fmt.Fprintln(w, d); err != nil {
			return err
		}
	}
	return nil
}

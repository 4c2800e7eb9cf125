package main

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/depth"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/capture/v4l2"
	"github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/examples/internal/avdev"
	"github.com/avlink/avlink/rtclink"
)

// depthOptions are the depth camera's flags.
type depthOptions struct {
	spec      string
	near, far float64
	bitrate   int
}

func depthFlags() *depthOptions {
	o := &depthOptions{}
	flag.StringVar(&o.spec, "depth", "none",
		`a second video track with the depth picture, colourised (near red, far blue, no data black): "realsense" (its depth node), a node such as /dev/video2, "testpattern" (a moving synthetic scene), or "none"`)
	flag.Float64Var(&o.near, "depth-near", depth.DefaultNear, "depth shown in the nearest colour, metres")
	flag.Float64Var(&o.far, "depth-far", depth.DefaultFar, "depth shown in the farthest colour, metres")
	flag.IntVar(&o.bitrate, "depth-bitrate", 300_000, "start bitrate of the depth track (bit/s)")
	return o
}

// videoSender opens the depth node (or the synthetic scene) behind a
// colouriser and a VP8 encoder, as the track "depth"; nil for -depth none.
func (o *depthOptions) videoSender(devs *devices, log *slog.Logger) (*rtclink.VideoSender, error) {
	if o.spec == "" || o.spec == "none" {
		return nil, nil
	}
	var src capture.VideoSource
	switch {
	case o.spec == testPattern:
		p, err := synth.NewDepthPattern(synth.DepthPatternConfig{})
		if err != nil {
			return nil, err
		}
		log.Info("depth: sending the synthetic depth scene", "size", "640x480")
		src = p
	default:
		path := o.spec
		if !strings.HasPrefix(path, "/") {
			d, err := v4l2.FindDepth(avdev.CardName(o.spec))
			if err != nil {
				return nil, fmt.Errorf("depth: %w\n-list-cameras lists the nodes; -depth none sends no depth", err)
			}
			path = d.Path
		}
		cam, err := v4l2.Open(path, v4l2.Config{Formats: []v4l2.FourCC{v4l2.Z16}, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("depth: %w\n-list-cameras lists the nodes; -depth none sends no depth", err)
		}
		log.Info("depth: streaming", "node", path, "card", cam.Info().Card, "mode", cam.Mode().String())
		src = cam
	}
	col, err := depth.NewColorizer(src, depth.Config{Near: o.near, Far: o.far})
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("depth: %w", err)
	}
	watched := devs.addVideo("depth camera", col)
	enc, err := vp8.NewEncoder(vp8.EncoderConfig{Bitrate: o.bitrate, Logger: log})
	if err != nil {
		return nil, err
	}
	// A smaller ceiling than the colour camera's leaves it most of the estimate.
	return &rtclink.VideoSender{Name: "depth", Source: watched, Encoder: enc, StartBitrate: o.bitrate, MaxBitrate: 1_000_000}, nil
}

package vp8

import (
	"fmt"
	"strings"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
)

// Factory returns a function that makes a decoder configured by cfg for
// each video track a session receives, in the shape
// rtclink.VideoReceiver.NewDecoder takes:
//
//	&rtclink.VideoReceiver{NewDecoder: vp8.Factory(vp8.DecoderConfig{}), Sink: window}
//
// A track in another codec gets an error wrapping ErrConfig.
func Factory(cfg DecoderConfig) func(capture.Codec) (playback.VideoDecoder, error) {
	return func(c capture.Codec) (playback.VideoDecoder, error) {
		if !strings.EqualFold(c.MimeType, "video/VP8") {
			return nil, fmt.Errorf("%w: cannot decode %s", ErrConfig, c.MimeType)
		}
		return NewDecoder(cfg)
	}
}

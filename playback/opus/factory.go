package opus

import (
	"fmt"
	"strings"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
)

// Factory returns a function that makes a decoder configured by cfg for
// each audio track a session receives, in the shape
// rtclink.AudioReceiver.NewDecoder takes:
//
//	&rtclink.AudioReceiver{NewDecoder: opus.Factory(opus.DecoderConfig{}), Sink: speaker}
//
// A track in another codec gets an error wrapping ErrConfig.
func Factory(cfg DecoderConfig) func(capture.Codec) (playback.AudioDecoder, error) {
	return func(c capture.Codec) (playback.AudioDecoder, error) {
		if !strings.EqualFold(c.MimeType, "audio/opus") {
			return nil, fmt.Errorf("%w: cannot decode %s", ErrConfig, c.MimeType)
		}
		return NewDecoder(cfg)
	}
}

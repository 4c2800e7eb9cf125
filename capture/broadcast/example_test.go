package broadcast_test

import (
	"context"
	"fmt"
	"log"

	"github.com/avlink/avlink/capture/broadcast"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/capture/vp8"
)

// Encode the test pattern once for two viewers. In a robot, each reader
// becomes the Samples of one viewer's rtclink.VideoSender; here two
// loops read them.
func Example() {
	src, err := synth.NewPattern(synth.PatternConfig{Width: 320, Height: 240})
	if err != nil {
		log.Fatal(err)
	}
	// Automatic keyframes off: each viewer asks for one when it joins.
	enc, err := vp8.NewEncoder(vp8.EncoderConfig{NoAutoKeyframes: true})
	if err != nil {
		log.Fatal(err)
	}
	video, err := broadcast.NewVideo(broadcast.VideoConfig{Source: src, Encoder: enc})
	if err != nil {
		log.Fatal(err)
	}
	defer video.Close() // closes the pattern and the encoder too

	var readers []*broadcast.VideoReader
	for _, estimate := range []int{300_000, 800_000} {
		r, err := video.NewReader()
		if err != nil {
			log.Fatal(err)
		}
		defer r.Close()
		// Each viewer's session reports its congestion estimate.
		r.SetTargetBitrate(estimate)
		readers = append(readers, r)
	}
	for i, r := range readers {
		for n := 0; n < 2; n++ {
			s, err := r.ReadSample(context.Background())
			if err != nil {
				log.Fatal(err)
			}
			if n == 0 {
				fmt.Printf("viewer %d: %s, first sample is a keyframe: %v\n", i+1, r.Codec().MimeType, s.Keyframe)
			}
		}
	}
	// One encoder serves both, at the rate of the slower link.
	st := video.Stats()
	fmt.Println("readers:", st.Readers, "bitrate:", st.Bitrate)
	// Output:
	// viewer 1: video/VP8, first sample is a keyframe: true
	// viewer 2: video/VP8, first sample is a keyframe: true
	// readers: 2 bitrate: 300000
}

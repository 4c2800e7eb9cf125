package playback_test

import (
	"fmt"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
)

// A callback sink receives decoded frames; here it counts them.
func ExampleVideoSinkFunc() {
	frames := 0
	var sink playback.VideoSink = playback.VideoSinkFunc(func(f *capture.VideoFrame) error {
		frames++
		return nil
	})
	for range 3 {
		_ = sink.WriteVideo(&capture.VideoFrame{Format: capture.FormatI420, Width: 2, Height: 2, Data: make([]byte, 6)})
	}
	_ = sink.Close()
	fmt.Println(frames, "frames")
	// Output: 3 frames
}

// A sample sink sees encoded media as it arrives, without decoding.
func ExampleSampleSinkFunc() {
	sink := playback.SampleSinkFunc(func(c capture.Codec, s *capture.Sample) error {
		fmt.Println(c.MimeType, len(s.Data), "bytes, keyframe:", s.Keyframe)
		return nil
	})
	_ = sink.WriteSample(capture.Codec{MimeType: "video/VP8", ClockRate: 90000}, &capture.Sample{Data: make([]byte, 1200), Keyframe: true})
	// Output: video/VP8 1200 bytes, keyframe: true
}

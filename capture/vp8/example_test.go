package vp8_test

import (
	"fmt"
	"log"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/vp8"
)

// Encode a grey 640x480 frame, then ask for a keyframe on a later one, as
// a session does when the far side sends a PLI.
func ExampleEncoder() {
	enc, err := vp8.NewEncoder(vp8.EncoderConfig{Bitrate: 800_000})
	if err != nil {
		log.Fatal(err)
	}
	defer enc.Close()

	frame := &capture.VideoFrame{Format: capture.FormatI420, Width: 640, Height: 480,
		Data: make([]byte, capture.FormatI420.FrameSize(640, 480))}
	for i := range frame.Data {
		frame.Data[i] = 128
	}
	for i, key := range []bool{false, false, true} {
		s, err := enc.Encode(frame, key)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("frame %d: keyframe=%v\n", i, s.Keyframe)
	}
	// A bandwidth estimate lowers the target; it is clamped to the range.
	_ = enc.SetBitrate(10_000)
	lo, _ := enc.BitrateRange()
	fmt.Println(enc.Codec().MimeType, enc.Bitrate() == lo)
	// Output:
	// frame 0: keyframe=true
	// frame 1: keyframe=false
	// frame 2: keyframe=true
	// video/VP8 true
}

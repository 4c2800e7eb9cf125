package vp8_test

import (
	"fmt"
	"log"

	"github.com/avlink/avlink/capture"
	capvp8 "github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/playback/vp8"
)

// Encode a frame with capture/vp8 and decode it again.
func ExampleDecoder() {
	enc, err := capvp8.NewEncoder(capvp8.EncoderConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer enc.Close()
	dec, err := vp8.NewDecoder(vp8.DecoderConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer dec.Close()

	frame := &capture.VideoFrame{Format: capture.FormatI420, Width: 320, Height: 240,
		Data: make([]byte, capture.FormatI420.FrameSize(320, 240))}
	s, err := enc.Encode(frame, true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("keyframe:", vp8.IsKeyframe(s.Data))

	out, err := dec.Decode(s.Data)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%v %dx%d, %d bytes\n", out.Format, out.Width, out.Height, len(out.Data))
	fmt.Println("waiting for a keyframe:", dec.NeedKeyframe())
	// Output:
	// keyframe: true
	// I420 320x240, 115200 bytes
	// waiting for a keyframe: false
}

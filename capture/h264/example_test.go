package h264_test

import (
	"context"
	"fmt"
	"log"

	"github.com/avlink/avlink/capture/h264"
)

// Read the profile of a recorded stream for SDP, and play its first
// access units.
func ExampleFileSource() {
	src, err := h264.OpenFile("testdata/baseline_320x240_30.h264", h264.FileSourceConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	sps := src.SPS()
	fmt.Printf("%s %dx%d at %g fps\n", sps.ProfileName(), sps.Width, sps.Height, sps.FrameRate)
	fmt.Println(src.Codec().MimeType, src.Codec().Fmtp)

	for range 2 {
		s, err := src.ReadSample(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("keyframe:", s.Keyframe, "lasting", s.Duration)
	}
	// Output:
	// Constrained Baseline 320x240 at 30 fps
	// video/H264 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42c01e
	// keyframe: true lasting 33.333333ms
	// keyframe: false lasting 33.333333ms
}

// Parse the SPS of an encoder's Annex-B output to signal its profile.
func ExampleParseSPS() {
	stream := []byte{
		0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xda, 0x05, 0x07, 0xe8, 0x40, 0x00, 0x00, 0x03,
		0x00, 0x40, 0x00, 0x00, 0x0f, 0x23, 0xc5, 0x8b, 0xa8,
		0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80,
	}
	for _, nal := range h264.SplitAnnexB(stream) {
		if h264.NALType(nal) != h264.NALSPS {
			continue
		}
		sps, err := h264.ParseSPS(nal)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(sps.ProfileLevelID(), sps.Width, sps.Height)
	}
	// Output:
	// 42c01e 320 240
}

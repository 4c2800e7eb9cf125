package filesrc_test

import (
	"context"
	"fmt"
	"io"

	"github.com/avlink/avlink/capture/filesrc"
	"github.com/avlink/avlink/capture/stamp"
)

// Read a Y4M file as a video source, as fast as possible.
func ExampleOpenY4M() {
	src, err := filesrc.OpenY4M("../../testdata/pattern.y4m", filesrc.Options{Fast: true})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	for {
		f, err := src.ReadVideo(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		if _, n, err := stamp.Read(f); err == nil && n%5 == 0 {
			fmt.Printf("frame %d: %dx%d\n", n, f.Width, f.Height)
		}
	}
	// Output:
	// frame 0: 80x60
	// frame 5: 80x60
}

// An IVF file is a source of pre-encoded VP8 samples that a session sends
// untouched, paced by their timestamps.
func ExampleOpenIVF() {
	src, err := filesrc.OpenIVF("../../testdata/vp8.ivf", filesrc.Options{Fast: true})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	s, err := src.ReadSample(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(src.Codec().MimeType, "keyframe:", s.Keyframe, "lasts", s.Duration)
	// Output: video/VP8 keyframe: true lasts 33ms
}

// A broken file gives an error that names it and matches a sentinel.
func ExampleOpenWAV_corrupt() {
	_, err := filesrc.OpenWAV("../../testdata/truncated_header.wav", filesrc.Options{})
	fmt.Println(err)
	// Output: filesrc: ../../testdata/truncated_header.wav: wav fmt chunk: truncated media file
}

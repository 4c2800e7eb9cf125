package filesrc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/avlink/avlink/capture/filesrc"
	"github.com/avlink/avlink/capture/stamp"
)

// A file source is the capture source a sender reads: here a WAV file as
// an audio source, in blocks of 20 ms stamped with the time each is due.
// Fast hands the blocks out without waiting for that time; a sender
// leaves it off, so the file plays in real time.
func Example() {
	src, err := filesrc.OpenWAV("../../testdata/tone.wav", filesrc.Config{Fast: true})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	rate, channels := src.Format()
	fmt.Printf("%d Hz, %d channel(s)\n", rate, channels)
	var blocks, samples int
	var first, last time.Time
	for {
		f, err := src.ReadAudio(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		if blocks == 0 {
			first = f.Time
		}
		last = f.Time
		blocks++
		samples += len(f.Samples) / f.Channels
	}
	fmt.Printf("%d blocks of %d samples, the last due %v after the first\n", blocks, samples/blocks, last.Sub(first))
	// Output:
	// 48000 Hz, 1 channel(s)
	// 25 blocks of 960 samples, the last due 480ms after the first
}

// A negative block size is refused with ErrConfig.
func ExampleNewWAV_badConfig() {
	_, err := filesrc.NewWAV(strings.NewReader(""), filesrc.Config{BlockSize: -1})
	fmt.Println(errors.Is(err, filesrc.ErrConfig))
	// Output: true
}

// Read a Y4M file as a video source, as fast as possible.
func ExampleOpenY4M() {
	src, err := filesrc.OpenY4M("../../testdata/pattern.y4m", filesrc.Config{Fast: true})
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
	src, err := filesrc.OpenIVF("../../testdata/vp8.ivf", filesrc.Config{Fast: true})
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
	_, err := filesrc.OpenWAV("../../testdata/truncated_header.wav", filesrc.Config{})
	fmt.Println(err)
	// Output: filesrc: ../../testdata/truncated_header.wav: wav fmt chunk: truncated media file
}

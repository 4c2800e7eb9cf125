package capture_test

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/avlink/avlink/capture"
)

// camera stands in for a vendor SDK that delivers 640×480 BGR24 frames,
// as a RealSense colour stream or OpenCV does.
type camera struct{ frames chan []byte }

func (c *camera) Stop() { close(c.frames) }

// cameraSource is a whole custom source: it adapts the SDK to
// capture.VideoSource, converting each frame to I420.
type cameraSource struct{ cam *camera }

func (s cameraSource) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case data, ok := <-s.cam.frames:
		if !ok {
			return nil, io.EOF
		}
		bgr := &capture.VideoFrame{Format: capture.FormatBGR24, Width: 640, Height: 480, Data: data, Time: time.Now()}
		out := new(capture.VideoFrame) // the caller owns each frame
		return out, capture.ToI420(out, bgr)
	}
}

func (s cameraSource) Close() error { s.cam.Stop(); return nil }

// A custom source for frames from your own camera SDK.
func Example_customVideoSource() {
	cam := &camera{frames: make(chan []byte, 1)}
	cam.frames <- make([]byte, 640*480*3) // one black frame from the "SDK"

	var src capture.VideoSource = cameraSource{cam}
	f, err := src.ReadVideo(context.Background())
	if err != nil {
		panic(err)
	}
	y, _, _ := capture.I420Planes(f)
	fmt.Println(f.Format, f.Width, f.Height, "luma", y[0])
	_ = src.Close()
	// Output: I420 640 480 luma 16
}

// The Python aiortc microphone sender captures 44.1 kHz mono in blocks of
// 120 samples; Opus wants 20 ms frames at 48 kHz. A Reframer converts
// between them.
func ExampleReframer() {
	r, err := capture.NewReframer(capture.ReframerConfig{Rate: 48000, Channels: 1, FrameSize: 960})
	if err != nil {
		panic(err)
	}
	start := time.Unix(1764000000, 0)
	frames := 0
	for i := 0; i < 44100/120; i++ { // about one second of blocks
		block := &capture.AudioFrame{Rate: 44100, Channels: 1, Samples: make([]int16, 120),
			Time: start.Add(time.Duration(i*120) * time.Second / 44100)}
		out, err := r.Push(block)
		if err != nil {
			panic(err)
		}
		for _, f := range out {
			if frames == 1 {
				fmt.Println("second frame:", len(f.Samples), "samples at", f.Time.Sub(start))
			}
			frames++
		}
	}
	fmt.Println(frames, "frames")
	// Output:
	// second frame: 960 samples at 20ms
	// 49 frames
}

// VideoSourceFunc turns a function into a source.
func ExampleVideoSourceFunc() {
	n := 0
	src := capture.VideoSourceFunc(func(ctx context.Context) (*capture.VideoFrame, error) {
		if n == 2 {
			return nil, io.EOF
		}
		n++
		return &capture.VideoFrame{Format: capture.FormatI420, Width: 2, Height: 2, Data: make([]byte, 6)}, nil
	})
	for {
		_, err := src.ReadVideo(context.Background())
		if err != nil {
			fmt.Println(n, "frames, then", err)
			return
		}
	}
	// Output: 2 frames, then EOF
}

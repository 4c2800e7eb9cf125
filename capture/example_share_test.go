package capture_test

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/avlink/avlink/capture"
)

// shutterCamera stands in for a camera: it captures a frame, numbered in
// its first byte, each time its shutter is pressed.
type shutterCamera struct{ shutter chan byte }

func (c *shutterCamera) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	select {
	case n, ok := <-c.shutter:
		if !ok {
			return nil, io.EOF
		}
		data := make([]byte, capture.FormatI420.FrameSize(4, 4))
		data[0] = n
		return &capture.VideoFrame{Format: capture.FormatI420, Width: 4, Height: 4, Data: data}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *shutterCamera) Close() error { fmt.Println("camera closed"); return nil }

// One camera sent to two viewers: each gets a reader of the shared
// camera as its source (in a robot, the Source of each rtclink session's
// VideoSender). The camera stays open until the last reader closes.
func ExampleShareVideo() {
	cam := &shutterCamera{shutter: make(chan byte)}
	shared := capture.ShareVideo(cam)
	alice, err := shared.NewReader()
	if err != nil {
		panic(err)
	}
	bob, err := shared.NewReader()
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	for n := byte(1); n <= 2; n++ {
		cam.shutter <- n
		a, _ := alice.ReadVideo(ctx)
		b, _ := bob.ReadVideo(ctx)
		fmt.Println("frame", a.Data[0], "to alice and", b.Data[0], "to bob; the same frame:", a == b)
	}

	_ = alice.Close() // alice's session ended; bob still watches
	cam.shutter <- 3
	b, _ := bob.ReadVideo(ctx)
	fmt.Println("frame", b.Data[0], "to bob")

	_ = bob.Close() // the last reader: the camera is closed
	_, err = shared.NewReader()
	fmt.Println(errors.Is(err, capture.ErrClosed))
	// Output:
	// frame 1 to alice and 1 to bob; the same frame: true
	// frame 2 to alice and 2 to bob; the same frame: true
	// frame 3 to bob
	// camera closed
	// true
}

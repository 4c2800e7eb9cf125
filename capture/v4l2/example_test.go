package v4l2_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/avlink/avlink/capture/v4l2"
)

// Open a camera, read a frame and say what went wrong if there is none.
// On this machine there is no /dev/video99, so Open fails with
// ErrNoDevice.
func Example() {
	cam, err := v4l2.Open("/dev/video99", v4l2.Config{Width: 640, Height: 480, FPS: 30})
	switch {
	case errors.Is(err, v4l2.ErrNoDevice), errors.Is(err, v4l2.ErrNotSupported):
		fmt.Println("no camera at /dev/video99")
		return
	case err != nil:
		fmt.Println(err)
		return
	}
	defer cam.Close()
	f, err := cam.ReadVideo(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cam.Mode(), "gave a frame of", f.Width, "x", f.Height)
	// Output: no camera at /dev/video99
}

// Find a RealSense's colour node among its depth, infrared and metadata
// nodes.
func ExampleFind() {
	dev, err := v4l2.Find("RealSense")
	if err != nil {
		fmt.Println("no RealSense:", errors.Is(err, v4l2.ErrNoDevice) || errors.Is(err, v4l2.ErrNotSupported))
		return
	}
	fmt.Println(dev)
}

// Look for a camera by name and carry on with a test pattern when there
// is none. No camera's card name contains "no such camera", so this runs
// the same on any machine.
func ExampleFind_missing() {
	dev, err := v4l2.Find("no such camera")
	if errors.Is(err, v4l2.ErrNoDevice) || errors.Is(err, v4l2.ErrNotSupported) {
		fmt.Println("no such camera: sending a test pattern")
		return
	}
	fmt.Println(dev, err)
	// Output: no such camera: sending a test pattern
}

func ExampleParseFourCC() {
	f, err := v4l2.ParseFourCC("mjpeg")
	fmt.Println(f, err, f.Convertible())
	// Output: MJPG <nil> true
}

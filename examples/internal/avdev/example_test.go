package avdev_test

import (
	"errors"
	"fmt"

	"github.com/avlink/avlink/capture/v4l2"
	"github.com/avlink/avlink/examples/internal/avdev"
)

// A -camera value is a node path or part of a card name; a camera that
// is not there is v4l2.ErrNoDevice, so the program can offer the test
// pattern instead.
func ExampleOpenCamera() {
	cam, _, err := avdev.OpenCamera("/dev/video99", v4l2.Config{})
	if errors.Is(err, v4l2.ErrNoDevice) {
		fmt.Println("no camera: -camera testpattern sends the test pattern")
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cam.Close()
	fmt.Println("streaming", cam.Info().Card)
	// Output: no camera: -camera testpattern sends the test pattern
}

package stamp_test

import (
	"fmt"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/stamp"
)

// A sender stamps each frame with its capture time; the receiver reads the
// stamp from the decoded frame and subtracts it from the time it shows it.
func Example() {
	const w, h = 320, 240
	f := &capture.VideoFrame{Format: capture.FormatI420, Width: w, Height: h,
		Data: make([]byte, capture.FormatI420.FrameSize(w, h))}
	captured := time.UnixMilli(1764000000000)
	if err := stamp.Write(f, captured, 42); err != nil {
		panic(err)
	}

	// ... encode, send, receive, decode ...

	at, counter, err := stamp.Read(f)
	if err != nil {
		panic(err)
	}
	shown := captured.Add(9 * time.Millisecond)
	fmt.Println("frame", counter, "latency", shown.Sub(at))
	// Output: frame 42 latency 9ms
}

package synth_test

import (
	"context"
	"fmt"
	"time"

	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/capture/synth"
)

// The test pattern stamps each frame; a receiver reads the stamp back.
func ExamplePattern() {
	src, err := synth.NewPattern(synth.PatternConfig{Width: 320, Height: 240, FPS: 30})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for range 3 {
		f, err := src.ReadVideo(ctx)
		if err != nil {
			panic(err)
		}
		_, counter, err := stamp.Read(f)
		fmt.Println(f.Width, f.Height, counter, err)
	}
	// Output:
	// 320 240 0 <nil>
	// 320 240 1 <nil>
	// 320 240 2 <nil>
}

// A tone's pitch and level can be checked on the receiving side.
func ExampleMeasureTone() {
	src, _ := synth.NewTone(synth.ToneConfig{Frequency: 440, Amplitude: 0.25, BlockSize: 4800})
	defer src.Close()
	f, _ := src.ReadAudio(context.Background())
	freq, amp := synth.MeasureTone(f.Samples, f.Rate)
	fmt.Printf("%.0f Hz at %.2f of full scale\n", freq, amp)
	// Output: 440 Hz at 0.25 of full scale
}

// A click detector on each end measures audio latency.
func ExampleClickDetector() {
	clicks, _ := synth.NewClicks(synth.ClickConfig{Period: 100 * time.Millisecond, BlockSize: 4800})
	defer clicks.Close()
	f, _ := clicks.ReadAudio(context.Background())
	var det synth.ClickDetector
	fmt.Println(len(det.Detect(f)), "clicks in", f.Duration())
	// Output: 1 clicks in 100ms
}

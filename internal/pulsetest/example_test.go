package pulsetest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/internal/pulsetest"
)

// Play a tone into the microphone's null sink and record it from its
// monitor, the default source a microphone Source captures.
func ExampleStart() {
	srv, err := pulsetest.Start(pulsetest.Config{})
	if err != nil {
		log.Fatal(err) // wraps pulsetest.ErrUnavailable without PulseAudio
	}
	defer srv.Close()
	rec, err := srv.Record(pulsetest.Monitor(pulsetest.MicSink), 48000, 1)
	if err != nil {
		log.Fatal(err)
	}
	defer rec.Close()
	ctx := context.Background()
	if err := srv.Play(ctx, pulsetest.MicSink, 48000, 1, pulsetest.Sine(440, 0.5, 48000, 1, 48000)); err != nil {
		log.Fatal(err)
	}
	first, last := pulsetest.Span(rec.Samples(), 0.1)
	freq, amp := synth.MeasureTone(rec.Samples()[first:last], 48000)
	fmt.Printf("%.0f Hz at %.1f of full scale\n", freq, amp)
}

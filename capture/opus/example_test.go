package opus_test

import (
	"fmt"
	"log"
	"math"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/opus"
	playopus "github.com/avlink/avlink/playback/opus"
)

// Encode 20 ms of a 440 Hz tone and decode it again.
func ExampleEncoder() {
	enc, err := opus.NewEncoder(opus.EncoderConfig{FEC: true})
	if err != nil {
		log.Fatal(err)
	}
	defer enc.Close()
	dec, err := playopus.NewDecoder(playopus.DecoderConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer dec.Close()

	pcm := make([]int16, enc.FrameSize()*enc.Channels())
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/48000))
	}
	s, err := enc.Encode(&capture.AudioFrame{Rate: enc.Rate(), Channels: enc.Channels(), Samples: pcm})
	if err != nil {
		log.Fatal(err)
	}
	c := enc.Codec()
	fmt.Println(c.MimeType, c.ClockRate, c.Channels, c.Fmtp)
	fmt.Println("packet lasts", s.Duration)

	out, err := dec.Decode(s.Data)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("decoded", len(out.Samples), "samples at", out.Rate, "Hz")
	// Output:
	// audio/opus 48000 2 minptime=10;useinbandfec=1
	// packet lasts 20ms
	// decoded 960 samples at 48000 Hz
}

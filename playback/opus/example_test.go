package opus_test

import (
	"fmt"
	"log"

	"github.com/avlink/avlink/playback/opus"
)

// Conceal a lost packet: a nil packet yields 20 ms of audio continued from
// what came before (silence here, as nothing came before).
func ExampleDecoder() {
	dec, err := opus.NewDecoder(opus.DecoderConfig{Channels: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer dec.Close()
	f, err := dec.Decode(nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Rate, f.Channels, f.Duration())
	// Output:
	// 48000 2 20ms
}

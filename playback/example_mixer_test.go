package playback_test

import (
	"fmt"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
)

// Two viewers talk to one robot at once: each session's audio goes to an
// input of its own, and the speaker (here a callback) plays their sum.
func ExampleMixer() {
	speaker := playback.AudioSinkFunc(func(f *capture.AudioFrame) error {
		fmt.Println(len(f.Samples), "samples at", f.Samples[0])
		return nil
	})
	mix, err := playback.NewMixer(playback.MixerConfig{Sink: speaker})
	if err != nil {
		panic(err)
	}
	defer mix.Close()
	alice, bob := mix.Input(), mix.Input()
	tone := func(v int16) *capture.AudioFrame { // 10 ms of 48 kHz mono
		s := make([]int16, 480)
		for i := range s {
			s[i] = v
		}
		return &capture.AudioFrame{Rate: 48000, Channels: 1, Samples: s}
	}
	_ = alice.WriteAudio(tone(100)) // alone so far: played at once
	_ = alice.WriteAudio(tone(100))
	_ = bob.WriteAudio(tone(20))    // alice speaks: waits for her part
	_ = alice.WriteAudio(tone(100)) // both parts: played
	// Output:
	// 480 samples at 100
	// 480 samples at 100
	// 480 samples at 120
}

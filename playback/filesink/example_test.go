package filesink_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/avlink/avlink/capture/filesrc"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/playback/filesink"
)

// Record received audio to a WAV file; Close fills in the header.
func ExampleCreateWAV() {
	dir, _ := os.MkdirTemp("", "filesink")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "call.wav")

	sink, err := filesink.CreateWAV(path)
	if err != nil {
		panic(err)
	}
	tone, _ := synth.NewTone(synth.ToneConfig{Rate: 16000, BlockSize: 1600})
	defer tone.Close()
	for range 3 { // in a session, decoded audio arrives here
		f, _ := tone.ReadAudio(context.Background())
		if err := sink.WriteAudio(f); err != nil {
			panic(err)
		}
	}
	if err := sink.Close(); err != nil {
		panic(err)
	}

	src, err := filesrc.OpenWAV(path, filesrc.Config{Fast: true, BlockSize: 4800})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	f, _ := src.ReadAudio(context.Background())
	rate, ch := src.Format()
	fmt.Println(rate, "Hz", ch, "channel,", f.Duration(), "recorded")
	// Output: 16000 Hz 1 channel, 300ms recorded
}

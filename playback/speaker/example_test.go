package speaker_test

import (
	"errors"
	"fmt"
	"log"
	"math"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback/speaker"
)

// Play a second of a 440 Hz tone on the default output device, keeping
// 60 ms in hand against late packets.
func ExampleOpen() {
	spk, err := speaker.Open(speaker.Config{Target: 60e6})
	if errors.Is(err, speaker.ErrNoDevice) {
		log.Println("no speaker, carrying on without sound:", err)
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	defer spk.Close()
	for i := range 50 { // 20 ms frames, as Opus packets decode
		pcm := make([]int16, 960)
		for j := range pcm {
			pcm[j] = int16(8000 * math.Sin(2*math.Pi*440*float64(i*960+j)/48000))
		}
		if err := spk.WriteAudio(&capture.AudioFrame{Rate: 48000, Channels: 1, Samples: pcm}); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("buffered:", spk.Buffered(), "stats:", spk.Stats())
}

// List the output devices.
func ExampleDevices() {
	devs, err := speaker.Devices()
	if err != nil {
		log.Fatal(err)
	}
	if len(devs) == 0 {
		fmt.Println("no output devices")
	}
	for _, d := range devs {
		fmt.Printf("%d: %s, %d channels, %d Hz, default %v\n", d.Index, d.Name, d.Channels, d.DefaultRate, d.Default)
	}
}

// A Config is checked before any device is touched, so a mistake in it
// shows on any machine, with or without a speaker, as an error that
// wraps ErrConfig: here a jitter buffer whose MaxTarget is below its
// Target.
func ExampleOpen_invalidConfig() {
	_, err := speaker.Open(speaker.Config{Target: 100 * time.Millisecond, MaxTarget: 60 * time.Millisecond})
	fmt.Println(errors.Is(err, speaker.ErrConfig))
	fmt.Println(err)
	// Output:
	// true
	// speaker: invalid config: max target 60ms is less than the target 100ms
}

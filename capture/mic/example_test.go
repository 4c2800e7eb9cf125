package mic_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/avlink/avlink/capture/mic"
)

// Capture as the original deployment's Python microphone sender did:
// 44.1 kHz mono in blocks of 120 samples, from the default input device.
func ExampleOpen() {
	src, err := mic.Open(mic.Config{Rate: 44100, Channels: 1, BlockSize: 120})
	if errors.Is(err, mic.ErrNoDevice) {
		log.Println("no microphone, carrying on without audio:", err)
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	f, err := src.ReadAudio(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Rate, f.Channels, len(f.Samples))
}

// List the input devices, as a program's -list flag does.
func ExampleDevices() {
	devs, err := mic.Devices()
	if err != nil {
		log.Fatal(err)
	}
	if len(devs) == 0 {
		fmt.Println("no input devices")
	}
	for _, d := range devs {
		def := ""
		if d.Default {
			def = " (default)"
		}
		fmt.Printf("%d: %s, %d channels, %d Hz%s\n", d.Index, d.Name, d.Channels, d.DefaultRate, def)
	}
}

// A Config is checked before any device is touched, so a mistake in it
// shows on any machine, with or without a microphone, as an error that
// wraps ErrConfig.
func ExampleOpen_invalidConfig() {
	_, err := mic.Open(mic.Config{Rate: 44100, BlockSize: -120})
	fmt.Println(errors.Is(err, mic.ErrConfig))
	fmt.Println(err)
	// Output:
	// true
	// mic: invalid config: rate 44100, 0 channels, blocks of -120, latency 0s, queue 0s
}

// Package mic captures a microphone through PortAudio as a
// [capture.AudioSource], so a session can send it:
//
//	src, err := mic.Open(mic.Config{})
//	if errors.Is(err, mic.ErrNoDevice) { ... } // say so and go on without audio
//	cfg.Audio = &rtclink.AudioSender{Source: src, Encoder: enc}
//
// [Open] takes the device by index or by part of its name, or the default
// input device; the rate, channel count and block size are configurable.
// The original deployment's Python microphone sender captured 44.1 kHz
// mono int16 in blocks of 120 samples; Config{Rate: 44100, BlockSize: 120}
// does the same, and the session resamples the blocks to what its encoder
// wants (48 kHz for Opus). Left at zero, the rate is 48 kHz where the
// device takes it, so nothing needs resampling.
//
// Captured blocks wait in a short queue for ReadAudio. Audio lost on the
// way — the device reporting an input overflow, or blocks dropped because
// the reader fell behind the queue — is counted in [Source.Stats] and
// logged, never fatal. [Devices] lists the input devices.
//
// The package uses cgo and links PortAudio (Debian: portaudio19-dev;
// macOS: brew install portaudio). Nothing touches PortAudio until Open or
// Devices is called: PortAudio is initialised then and terminated when
// the last device user is closed. A program that does not import this
// package does not link PortAudio.
package mic

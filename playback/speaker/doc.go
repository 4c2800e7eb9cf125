// Package speaker plays decoded audio on an output device through
// PortAudio, as a [playback.AudioSink] a session hands what it receives:
//
//	spk, err := speaker.Open(speaker.Config{})
//	if errors.Is(err, speaker.ErrNoDevice) { ... } // say so and go on without sound
//	cfg.ReceiveAudio = &rtclink.AudioReceiver{NewDecoder: opus.Factory(opus.DecoderConfig{}), Sink: spk}
//
// Between WriteAudio and the device sits a small jitter buffer. Playback
// starts once it holds its target of audio (Config.Target); when it runs
// dry (an underrun: a late packet, or the sender gone quiet) the device
// plays silence until the buffer holds the target again, and the target
// rises a step, up to Config.MaxTarget, so that a jittery link stops
// dropping out; after a quiet spell it steps back down. When the buffer
// holds more than Config.MaxBuffer (an overrun: a burst after a network
// stall, or a sender whose clock runs fast) the oldest audio is dropped
// back to the target, so the delay never grows. And when for a whole
// second the buffer has held more than it needed (after a refill, or a
// smaller burst), the excess oldest audio is dropped too, so the delay
// comes back to what the target asks. All three are counted in [Sink.Stats] and logged;
// [Sink.Buffered] says how much the buffer holds. Audio of any rate and
// channel count is converted to the device's.
//
// The original deployment's Linux audio receiver opened the default output
// device at 44100 Hz, mono, in blocks of 120 samples;
// Config{Rate: 44100, BlockSize: 120} does the same. [Devices] lists the
// output devices.
//
// The package uses cgo and links PortAudio (Debian: portaudio19-dev;
// macOS: brew install portaudio). Nothing touches PortAudio until Open or
// Devices is called.
package speaker

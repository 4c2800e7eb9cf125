// Package capture defines where outgoing media comes from: the raw frame
// types, the [VideoSource], [AudioSource] and [SampleSource] interfaces that a
// camera, a microphone, a file or a user's own SDK implements, the encoder
// interfaces that turn raw frames into samples, and the pure-Go pieces around
// them (pixel-format converters, resampling, clocks, synthetic sources).
//
// Everything in this package builds without cgo. Encoders and device
// sources that need C libraries live in subpackages (capture/vp8,
// capture/opus), so that a program that only relays
// pre-encoded samples never links libvpx, libopus or PortAudio.
//
// Sources are pulled: a session calls ReadVideo or ReadAudio in a loop on
// its own goroutine. A source blocks until it has the next frame and returns
// the newest one it has; it never needs to queue old frames, because the
// session drops stale frames rather than let latency grow.
//
// A source is read by one consumer. [ShareVideo] and [ShareAudio] let
// several read one camera or microphone: each consumer, such as an rtclink
// session serving one viewer, takes a reader as its source, and closing it
// detaches only that consumer; the source closes with the last reader.
// Each consumer still encodes what it reads; package capture/broadcast
// encodes once for all of them.
package capture

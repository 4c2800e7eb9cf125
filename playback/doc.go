// Package playback defines where received media goes: the [Sink]
// interfaces, decoder interfaces, and pure-Go default sinks (callbacks and
// files). Sinks that need C libraries live in subpackages (playback/vp8 and
// playback/opus decoders, playback/speaker for PortAudio output).
package playback

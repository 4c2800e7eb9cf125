// Package playback defines where received media goes: the [Sink]
// interfaces, decoder interfaces, and pure-Go default sinks (callbacks and
// files). Decoders that need C libraries live in subpackages
// (playback/vp8, playback/opus), each with a Factory in the shape a
// session's receiver takes.
package playback

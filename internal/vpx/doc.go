// Package vpx is a thin cgo binding of libvpx's VP8 encoder and decoder.
//
// It exists because the cost of a realtime VP8 encoder is mostly in how it
// is driven: the encoder here is configured once, with libwebrtc-like
// realtime settings chosen by the caller, and reconfigured through
// vpx_codec_enc_config_set only when the target bitrate actually changes.
// Calling it before every frame, as some bindings do, triples the encode
// time at 640x480.
//
// The binding knows nothing about frames, samples or sessions; packages
// capture/vp8 and playback/vp8 build the project's encoder and decoder
// interfaces on it. Every C allocation is released by Close, which may be
// called more than once; any other call after Close returns [ErrClosed].
// Values are not safe for concurrent use.
package vpx

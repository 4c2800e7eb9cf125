// Package vp8 decodes VP8 frames to I420 pictures with libvpx.
//
// [Decoder] implements [playback.VideoDecoder]. It waits for a keyframe
// before it shows anything, and after a frame fails to decode (corrupt,
// truncated, or depending on a lost reference) it waits for the next
// keyframe again instead of showing damaged pictures; [Decoder.NeedKeyframe]
// tells the caller when to ask the sender for one (PLI).
//
// The package uses cgo and links libvpx (Debian: libvpx-dev).
package vp8

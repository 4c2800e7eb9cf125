// Package vp8 encodes raw I420 frames to VP8 with libvpx, for sending
// over WebRTC with low latency.
//
// [Encoder] implements [capture.VideoEncoder]. It is tuned the way
// libwebrtc tunes libvpx for realtime video: no lag-in-frames, error
// resilient, realtime deadline, speed -6, CBR with short rate-control
// buffers (1000 ms, starting at 500 ms, aiming at 600 ms), one thread, and
// keyframes only when asked for or after a long interval. The target
// bitrate can change while running (for example from a bandwidth
// estimate); libvpx is reconfigured only when it does, never per frame.
//
// The package uses cgo and links libvpx (Debian: libvpx-dev). Frames in
// other pixel formats are converted to I420 with the converters of package
// capture before they reach the encoder.
package vp8

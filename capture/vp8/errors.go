package vp8

import "errors"

var (
	// ErrClosed reports a call after Close.
	ErrClosed = errors.New("vp8: encoder closed")
	// ErrFormat reports a frame that is not I420; convert it first with
	// the converters of package capture.
	ErrFormat = errors.New("vp8: unsupported pixel format")
	// ErrConfig reports an invalid EncoderConfig.
	ErrConfig = errors.New("vp8: invalid encoder config")
	// ErrEncode reports that libvpx failed to encode a frame or to take a
	// new bitrate.
	ErrEncode = errors.New("vp8: encode failed")
	// ErrBitrate reports a bitrate that is not positive.
	ErrBitrate = errors.New("vp8: invalid bitrate")
)

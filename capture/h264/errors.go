package h264

import "errors"

var (
	// ErrNotSPS reports a NAL unit handed to ParseSPS that is not a
	// sequence parameter set.
	ErrNotSPS = errors.New("h264: not an SPS NAL unit")
	// ErrBadSPS reports a sequence parameter set that is truncated or has
	// values outside what the standard allows.
	ErrBadSPS = errors.New("h264: malformed SPS")
	// ErrNoSPS reports a stream whose first picture comes without a
	// sequence parameter set before it, so its profile is unknown.
	ErrNoSPS = errors.New("h264: no SPS before the first picture")
	// ErrNALTooLarge reports a NAL unit over MaxNALSize, which usually
	// means the input is not an Annex-B stream.
	ErrNALTooLarge = errors.New("h264: NAL unit too large")
	// ErrClosed reports a read after Close.
	ErrClosed = errors.New("h264: source closed")
	// ErrConfig reports an invalid FileSourceConfig.
	ErrConfig = errors.New("h264: invalid source config")
)
